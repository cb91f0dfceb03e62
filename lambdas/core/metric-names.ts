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
  /** Text metrics of chat and completions answers: means of the window (all models, no slice). */
  promptTokens: 'PromptTokens',
  completionTokens: 'CompletionTokens',
  timeToFirstToken: 'TimeToFirstToken',
  outputTokensPerSecond: 'OutputTokensPerSecond',
  emptyAnswerRate: 'EmptyAnswerRate',
  refusalRate: 'RefusalRate',
} as const;

/**
 * The unpacked columns of LLM rows published as the mean of their profile row, and as what.
 * Their names are columns of `LLM_COLUMNS` (`unpack.ts`); a test keeps the two in step.
 */
export const LLM_COLUMN_METRICS: Readonly<Record<string, { readonly name: RefreshMetricName; readonly unit: 'Milliseconds' | 'None' | 'Count' }>> = {
  prompt_tokens: { name: RefreshMetric.promptTokens, unit: 'Count' },
  completion_tokens: { name: RefreshMetric.completionTokens, unit: 'Count' },
  time_to_first_token_ms: { name: RefreshMetric.timeToFirstToken, unit: 'Milliseconds' },
  output_tokens_per_second: { name: RefreshMetric.outputTokensPerSecond, unit: 'None' },
  empty_answer: { name: RefreshMetric.emptyAnswerRate, unit: 'None' },
  refusal: { name: RefreshMetric.refusalRate, unit: 'None' },
};
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
