import { z } from 'zod';
import type { ObjectStore } from './ports.js';

/**
 * The health of an endpoint's tables, as state: every refresh and `inference-tables doctor`
 * run the checks and record the result; the endpoint API reports it as the payload table's
 * status (Databricks' `auto_capture_config.state.payload_table`). A message names the cause
 * and the fix, never a local path.
 */

/** From healthy to broken; a table's status is its worst check's. */
export const HEALTH_STATUSES = ['ACTIVE', 'DEGRADED', 'FAILED'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** One check of one table. */
export const healthCheckSchema = z.strictObject({
  /** What was checked, e.g. `payload-files`. */
  check: z.string(),
  table: z.string(),
  status: z.enum(HEALTH_STATUSES),
  /** The cause and the fix when not ACTIVE; what was found otherwise. */
  message: z.string(),
  /** An ACTIVE finding worth telling (labels that match no prediction): shown with the status. */
  notice: z.boolean().optional(),
  /** How many things the check found wrong (files in quarantine, refused labels), for metrics. */
  count: z.number().int().min(0).optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;

/** The health of an endpoint's tables, as recorded. */
export const tableHealthSchema = z.strictObject({
  endpoint: z.string(),
  status: z.enum(HEALTH_STATUSES),
  message: z.string(),
  checked_at: z.string(),
  checks: z.array(healthCheckSchema),
});
export type TableHealth = z.infer<typeof tableHealthSchema>;

/** Where the health of the endpoints is recorded in the store (readable by the scoring function). */
export const HEALTH_PREFIX = '_refresh/health/';
/** Where the health of an endpoint is recorded. */
export const healthKey = (endpoint: string) => `${HEALTH_PREFIX}${endpoint}.json`;

/** The worse of two statuses. */
export function worse(a: HealthStatus, b: HealthStatus): HealthStatus {
  return HEALTH_STATUSES.indexOf(a) >= HEALTH_STATUSES.indexOf(b) ? a : b;
}

/** An endpoint's health from its checks: the worst status, and the messages of every check that is not ACTIVE. */
export function tableHealth(endpoint: string, checks: readonly HealthCheck[], at: Date): TableHealth {
  const status = checks.reduce<HealthStatus>((s, c) => worse(s, c.status), 'ACTIVE');
  const problems = checks.filter((c) => c.status !== 'ACTIVE');
  const notices = checks.filter((c) => c.status === 'ACTIVE' && c.notice);
  const passed = `Every check passed at ${at.toISOString()} (${checks.map((c) => c.check).join(', ')}).`;
  const message = problems.length > 0 ? [...problems, ...notices].map((c) => c.message).join(' ') : [passed, ...notices.map((c) => c.message)].join(' ');
  return { endpoint, status, message, checked_at: at.toISOString(), checks: [...checks] };
}

/** Reads a recorded health, or undefined when there is none or it is not one (an older release's file). */
export function parseTableHealth(text: string): TableHealth | undefined {
  try {
    const parsed = tableHealthSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The recorded health of an endpoint, if any. */
export async function readHealth(store: ObjectStore, endpoint: string): Promise<TableHealth | undefined> {
  const bytes = await store.get(healthKey(endpoint));
  return bytes ? parseTableHealth(Buffer.from(bytes).toString('utf8')) : undefined;
}
