import { z } from 'zod';

/** Buffering of the capture streams (Firehose and the local delivery stream), and what happens when a put fails. */
export const deliverySchema = z.strictObject({
  buffer_interval_seconds: z.number().int().min(0).max(900).default(60),
  buffer_size_mb: z.number().int().min(1).max(128).default(64),
  /**
   * Time a put to the stream may take, retries and backoff included, before its records
   * are spilled. With `spill_timeout_ms`, the most capture adds to a request's latency.
   */
  retry_budget_ms: z.number().int().min(50).max(10_000).default(1000),
  /** Time the spill write may take before its records are counted lost. */
  spill_timeout_ms: z.number().int().min(100).max(10_000).default(2000),
  /** How often spilled records are put back into the stream (the redrive schedule). */
  redrive_minutes: z.number().int().min(1).max(1440).default(15),
});
