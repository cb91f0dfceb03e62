/**
 * Names shared by the code that publishes CloudWatch metrics (the refresh, the capture
 * counters) and the constructs that alarm and draw dashboards on them, so the two cannot drift.
 */

/** Namespace of every metric the product publishes; the alarms and dashboards read it. */
export const METRICS_NAMESPACE = 'InferenceTables';

/**
 * The metrics the refresh publishes (`lambdas/workflow/metrics-step.ts`), read by the alarms
 * and dashboards (`lib/constructs/monitoring-alarms.ts`). Window figures are stamped at their
 * window's start, with the dimensions `Endpoint` and `Granularity`; which profile column each
 * comes from is declared with the column (`monitoring/profile-columns.ts`).
 */
export const RefreshMetric = {
  /** Predictions of the window (all models, no slice). */
  predictions: 'Predictions',
  /** Captured requests, weighted by 1/`sampling_fraction`. */
  requestCount: 'RequestCount',
  /** Share of requests answered 5xx. */
  errorRate: 'ErrorRate',
  latencyP50: 'LatencyP50',
  latencyP99: 'LatencyP99',
  /** Share of predictions with a label. */
  labelCoverage: 'LabelCoverage',
  accuracy: 'Accuracy',
  f1Macro: 'F1Macro',
  rocAuc: 'RocAuc',
  logLoss: 'LogLoss',
  meanAbsoluteError: 'MeanAbsoluteError',
  rootMeanSquaredError: 'RootMeanSquaredError',
  r2: 'R2',
  meanAbsolutePercentageError: 'MeanAbsolutePercentageError',
  /** JS distance of one column, with the dimensions `DriftType` and `Column` as well. */
  jsDistance: 'JsDistance',
  /** Columns that drifted in a window, per `DriftType`. */
  driftedColumns: 'DriftedColumns',
  /** Alerts a run raised, stamped at the run, per `Endpoint` (and per `Kind`, unalarmed). */
  alerts: 'Alerts',
} as const;
/** One of the refresh's metrics. */
export type RefreshMetricName = (typeof RefreshMetric)[keyof typeof RefreshMetric];

/**
 * The health of an endpoint's tables, published by every refresh's last step per `Endpoint`
 * (`lambdas/workflow/run-outcome.ts`) and alarmed on (`lib/constructs/monitoring-alarms.ts`).
 */
export const HealthMetric = {
  /** 0 ACTIVE, 1 DEGRADED, 2 FAILED. */
  tableHealth: 'TableHealth',
  /** Payload files waiting in the quarantine. */
  quarantinedFiles: 'QuarantinedFiles',
} as const;

/** Dimensions of the refresh's metrics. */
export const MetricDimension = {
  endpoint: 'Endpoint',
  granularity: 'Granularity',
  driftType: 'DriftType',
  column: 'Column',
  kind: 'Kind',
} as const;
