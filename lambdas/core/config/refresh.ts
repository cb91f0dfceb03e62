import { z } from 'zod';

/** The scheduled refresh workflow: unpack payloads, attach labels (and, later, metrics). */
export const refreshSchema = z.strictObject({
  /** Run on a schedule (EventBridge Scheduler on AWS, a timer in `npm start` locally). */
  enabled: z.boolean().default(true),
  /** Minutes between two scheduled runs. */
  schedule_minutes: z.number().int().min(1).max(1440).default(60),
  /**
   * Hours of payload partitions read again behind the watermark: files can land after their
   * records' date (delivery buffering, retries), and those partitions are re-listed for them.
   */
  late_arrival_hours: z.number().int().min(1).max(24 * 14).default(24),
  /** Payload files one unpack task reads; a run makes at most `max_tasks_per_run` tasks. */
  files_per_task: z.number().int().min(1).max(1000).default(20),
  /**
   * Parquet bytes one unpack task reads at most (a larger file gets a task of its own): keeps
   * a task within its Lambda's memory and 10-minute timeout whatever the delivery buffering.
   */
  mib_per_task: z.number().int().min(1).max(1024).default(64),
  /**
   * Bounds one run (and keeps the task list well under the 256 KiB state limit); what is left
   * is taken by the next run.
   */
  max_tasks_per_run: z.number().int().min(1).max(1000).default(500),
  /** Unpack tasks running at once. */
  max_concurrency: z.number().int().min(1).max(1000).default(10),
  /**
   * Memory of the local refresh's engine (DuckDB's `memory_limit`, MiB): beyond it the engine
   * spills to `warehouse.duckdb.tmp/` in the data folder, so a large refresh fits a laptop.
   * On AWS the statements run in Athena.
   */
  local_engine_mib: z.number().int().min(128).max(1_048_576).default(768),
});
export type RefreshSettings = z.infer<typeof refreshSchema>;
