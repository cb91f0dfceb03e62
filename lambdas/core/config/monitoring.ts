import { z } from 'zod';

/** Window lengths of the metrics tables (Lakehouse Monitoring's names). */
export const GRANULARITIES = ['5 minutes', '30 minutes', '1 hour', '1 day', '1 week'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * Monitoring of an endpoint by the refresh workflow: profile, drift and quality metrics per
 * window, and the thresholds that raise alerts.
 */
export const monitoringSchema = z.strictObject({
  enabled: z.boolean().default(true),
  granularities: z.array(z.enum(GRANULARITIES)).min(1).default(['1 hour', '1 day']),
  /** Default: classification when predictions are integers, strings or booleans, else regression. */
  problem_type: z.enum(['classification', 'regression']).optional(),
  /** Columns whose values each get a slice (the 20 most frequent values), e.g. `model_version`. */
  slices: z.array(z.string().regex(/^[a-z0-9_]+$/, 'must be an unpacked column name')).max(5).default([]),
  /**
   * What BASELINE drift compares with: a CSV or Parquet file of feature columns (path from the
   * project root, shipped with the workflow), a table of the environment's database with the
   * same column names, or a time range of the endpoint's own predictions.
   */
  baseline: z
    .union([
      z.strictObject({ file: z.string().regex(/\.(csv|parquet)$/, 'must be a .csv or .parquet file') }),
      z.strictObject({ table: z.string().regex(/^[a-z0-9_]{1,255}$/, 'must be a table name') }),
      z.strictObject({ from: z.iso.datetime(), to: z.iso.datetime() }),
    ])
    .optional(),
  drift: z
    .strictObject({
      /** False discovery rate across the columns of one comparison (Benjamini–Hochberg). */
      alpha: z.number().gt(0).lt(1).default(0.05),
      /** Fewer values on either side: INSUFFICIENT_DATA rather than a verdict. */
      min_samples: z.number().int().min(2).default(100),
      /** Smallest Jensen–Shannon distance that counts as drift, however small the p-value. */
      min_js_distance: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** Alert when this many columns or more drift in a window (0: never). */
      drifted_columns: z.number().int().min(0).default(1),
      /** Floors of quality metrics on `:table` rows, e.g. `{ "accuracy_score": 0.9 }`. */
      quality_floors: z.partialRecord(z.enum(['accuracy_score', 'f1_macro', 'roc_auc', 'r2_score']), z.number()).default({}),
      /** Ceilings of error metrics, e.g. `{ "root_mean_squared_error": 3 }`. */
      quality_ceilings: z.partialRecord(z.enum(['log_loss', 'mean_absolute_error', 'root_mean_squared_error', 'mean_absolute_percentage_error']), z.number()).default({}),
      /** Share of captured requests answered with a status ≥ 400. */
      max_error_rate: z.number().min(0).max(1).default(0.05),
      /** 99th percentile of the model's execution time. */
      max_p99_latency_ms: z.number().positive().default(1000),
      /** Alert when a window has fewer requests than this share of the previous one. */
      min_volume_ratio: z.number().min(0).max(1).default(0.5),
      /** Email addresses subscribed to the alerts topic on AWS. */
      emails: z.array(z.email()).default([]),
    })
    .prefault({}),
});
export type MonitoringSettings = z.infer<typeof monitoringSchema>;
