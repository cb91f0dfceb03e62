/**
 * The metrics of the refresh workflow (`<endpoint>_profile_metrics`, `_drift_metrics`,
 * `_alerts`), by concern: the windows (`windows.ts`), the rows they are computed from
 * (`batch.ts`), the column registries of the tables (`columns.ts`, `profile-columns.ts`,
 * `drift.ts`, `alerts.ts`) and of the drift statistics (`drift-statistics.ts`), the
 * profile, quality, drift and alerts of a group of rows, and the computation of a batch's
 * windows (`compute.ts`). Importers use this module.
 */

export { type AlertRow, ALERT_KINDS, ALERT_ROW_COLUMNS, alertRowSchema } from './alerts.js';
export { type PredictionBatch, type PredictionRow, type TrafficFigures, batchOf } from './batch.js';
export { ALL_MODELS, type MetricsColumn, RUN_COLUMNS, type SqlType, TABLE_COLUMN, columnsMarkdown, sqlTypeOf } from './columns.js';
export { type CountBatch, type ValueCounts, cellUnit, countsOf } from './counts.js';
export { type CarriedWindow, type MetricsOutput, computeMetrics } from './compute.js';
export { type ColumnDrift, DRIFT_ROW_COLUMNS, DRIFT_TYPES, type DriftRow, VERDICTS, benjaminiHochberg, compareSamples, driftRowSchema, verdicts } from './drift.js';
export { COLUMN_KINDS, DRIFT_CELLS, DRIFT_STATISTICS, type DriftStatistics, categoricalDrift, numericDrift } from './drift-statistics.js';
export { profileValues, quantile } from './profile.js';
export { NO_STATS, PROFILE_ROW_COLUMNS, PROFILE_STAT_COLUMNS, PUBLISHED_PROFILE_COLUMNS, type ProfileRow, profileRowSchema } from './profile-columns.js';
export { trafficKey, windowLength, windowStart } from './windows.js';
