import { z } from 'zod';

/**
 * The local server (`npm start`), which stands in for API Gateway on one machine: how many
 * requests it handles at once, and how slowly a request body may arrive before it is cut
 * with 408 (a grace period, then one more second per `body_min_bytes_per_second` bytes
 * received, never past the deadline). The AWS deployment ignores this part.
 */
export const localServerSchema = z.strictObject({
  /** Authenticated requests handled at once; the rest get 503 with Retry-After. */
  max_in_flight: z.number().int().min(1).max(100_000).default(256),
  body_grace_seconds: z.number().min(0.1).max(600).default(10),
  body_min_bytes_per_second: z.number().int().min(1).default(1024),
  body_deadline_seconds: z.number().min(1).max(3600).default(60),
  /** Minutes between maintenance runs (compaction and retention; also after each scheduled refresh); 0: only `inference-tables compact`. */
  compact_minutes: z.number().min(0).default(30),
  /** Minutes a file replaced by compaction stays (hidden) before it is deleted, for queries that listed it. */
  compact_grace_minutes: z.number().min(0).default(15),
  /** A compacted file is not merged again once it reaches this size. */
  compact_target_mib: z.number().int().min(1).default(128),
});
export type LocalServerSettings = z.infer<typeof localServerSchema>;
