/**
 * The metrics of the refresh workflow (`<endpoint>_profile_metrics`, `_drift_metrics`,
 * `_alerts`), by concern: the windows (`windows.ts`), the rows they are computed from
 * (`batch.ts`), the column registries of the tables (`columns.ts`, `profile-columns.ts`,
 * `drift.ts`, `alerts.ts`) and of the drift statistics (`drift-statistics.ts`), the
 * profile, quality, drift and alerts of a group of rows, and the computation of a batch's
 * windows (`compute.ts`). Importers use this module.
 */

export { type AlertKind, type AlertRow, type AlertRule, ALERT_KINDS, ALERT_ROW_COLUMNS, QUALITY_METRICS, type WindowFigures, alertRowSchema, alertRules, alertsOf } from './alerts.js';
export { type MonitoredColumn, type PredictionBatch, type PredictionRow, type TrafficFigures, batchOf } from './batch.js';
export {
  ALL_MODELS,
  METRICS_KEY_COLUMNS,
  type MetricsColumn,
  type MetricsKey,
  RUN_COLUMNS,
  SLICE_VALUES,
  type SqlType,
  TABLE_COLUMN,
  columnsMarkdown,
  docType,
  sqlTypeOf,
} from './columns.js';
export { type CarriedWindow, type MetricsInput, type MetricsOutput, computeMetrics } from './compute.js';
export { type ColumnDrift, DRIFT_ROW_COLUMNS, DRIFT_TYPES, type DriftRow, type SampleColumn, VERDICTS, type Verdict, benjaminiHochberg, compareSamples, driftRowSchema, verdicts } from './drift.js';
export {
  COLUMN_KINDS,
  type ColumnKind,
  DRIFT_CELLS,
  DRIFT_STATISTICS,
  DRIFT_STATISTIC_COLUMNS,
  type DriftColumns,
  type DriftStatistic,
  type DriftStatistics,
  categoricalDrift,
  driftColumnsSchema,
  driftOf,
  numericDrift,
  numericDriftSorted,
} from './drift-statistics.js';
export { type Sample, profileValues, quantile } from './profile.js';
export {
  FREQUENT_ITEMS,
  NO_STATS,
  PROFILE_ROW_COLUMNS,
  PROFILE_STAT_COLUMNS,
  PUBLISHED_PROFILE_COLUMNS,
  type ProfileColumn,
  type ProfileRow,
  QUANTILES,
  type StatsPart,
  profileRowSchema,
} from './profile-columns.js';
export { timestampOf, trafficKey, windowLength, windowStart } from './windows.js';
