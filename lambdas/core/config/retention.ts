import { z } from 'zod';

/** The kinds of data kept for a number of days, each with its own retention. */
export const RETAINED_KINDS = ['payload', 'unpacked', 'labels', 'metrics', 'quarantine'] as const;
export type RetainedKind = (typeof RETAINED_KINDS)[number];

/**
 * How many days each kind of data is kept, in both worlds: the payload tables and delivery
 * errors (S3 lifecycle on AWS, the maintenance run locally), the unpacked tables and their
 * rejects, the labels, the metrics tables, and quarantined files. Unset kinds keep
 * `deployment.data_retention_days` (quarantined files: 30 days).
 */
export const retentionSchema = z.strictObject({
  payload_days: z.number().int().min(1).optional(),
  unpacked_days: z.number().int().min(1).optional(),
  labels_days: z.number().int().min(1).optional(),
  metrics_days: z.number().int().min(1).optional(),
  quarantine_days: z.number().int().min(1).default(30),
});

/** Days each kind of data is kept, defaults resolved. */
export function retentionDays(config: { readonly retention: z.infer<typeof retentionSchema>; readonly deployment: { readonly data_retention_days: number } }): Record<RetainedKind, number> {
  const fallback = config.deployment.data_retention_days;
  const r = config.retention;
  return {
    payload: r.payload_days ?? fallback,
    unpacked: r.unpacked_days ?? fallback,
    labels: r.labels_days ?? fallback,
    metrics: r.metrics_days ?? fallback,
    quarantine: r.quarantine_days,
  };
}
