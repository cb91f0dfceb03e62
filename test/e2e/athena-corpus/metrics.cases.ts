/**
 * The metrics tables of the refresh: `iris_profile_metrics` and `iris_drift_metrics`
 * (Lakehouse Monitoring's column names; struct columns read with `.field`, arrays 1-based).
 * Windows are UTC; the demo endpoint profiles '1 hour' and '1 day', slices by model_version,
 * and needs 20 values a side for a drift verdict (so every verdict here is INSUFFICIENT_DATA).
 * Daily sepal lengths: 2026-11-21 {5.1, 6.7, 5.9, 5.0, 6.3}, 2026-11-22 {4.9, 5.8, 6.0, 7.7, 5.5, 6.1};
 * the baseline file (config/baselines/iris.csv) has 150 rows. Iceberg timestamps print with 6 digits.
 */
import type { Case } from './fixture.js';

const TABLE_ROWS = `column_name = ':table' AND model_id = '*' AND slice_key IS NULL`;
const DAILY = `granularity = '1 day' AND model_id = '*' AND slice_key IS NULL`;

export const cases: readonly Case[] = [
  {
    name: 'profile: daily quality on the :table rows (README query)',
    sql: `SELECT window_start, "count", accuracy_score, labeled_count, label_coverage FROM iris_profile_metrics WHERE ${TABLE_ROWS} AND granularity = '1 day'`,
    rule: 'day 1: 5 predictions, 4 labelled, 3 right; day 2: 6 predictions, 4 labelled, 3 right',
    expected: [
      { window_start: '2026-11-21 00:00:00.000000', count: 5, accuracy_score: 0.75, labeled_count: 4, label_coverage: 0.8 },
      { window_start: '2026-11-22 00:00:00.000000', count: 6, accuracy_score: 0.75, labeled_count: 4, label_coverage: 4 / 6 },
    ],
  },
  {
    name: 'profile: daily requests and 5xx error rate',
    sql: `SELECT CAST(window_start AS DATE) AS day, request_count, error_rate FROM iris_profile_metrics WHERE ${TABLE_ROWS} AND granularity = '1 day'`,
    rule: 'every captured request counts (weight 1 / 1.0); error_rate is the share answered 5xx: 0 of 4, then r07 and r10 of 8',
    expected: [{ day: '2026-11-21', request_count: 4, error_rate: 0 }, { day: '2026-11-22', request_count: 8, error_rate: 0.25 }],
  },
  {
    name: 'profile: daily statistics of a feature',
    sql: `SELECT CAST(window_start AS DATE) AS day, "count", num_nulls, "min", "max", "avg" FROM iris_profile_metrics WHERE ${DAILY} AND column_name = 'sepal_length'`,
    rule: 'quoted column names that are also function names; min/max/mean of each day\'s sepal lengths',
    expected: [
      { day: '2026-11-21', count: 5, num_nulls: 0, min: 5.0, max: 6.7, avg: 5.8 },
      { day: '2026-11-22', count: 6, num_nulls: 0, min: 4.9, max: 7.7, avg: 6.0 },
    ],
  },
  {
    name: 'profile: stddev, median and the quantiles array',
    sql: `SELECT stddev, median, element_at(quantiles, 1) AS q0, element_at(quantiles, -1) AS q100, quantiles[6] AS q50, cardinality(quantiles) AS n FROM iris_profile_metrics WHERE ${DAILY} AND column_name = 'sepal_length' AND window_start = TIMESTAMP '2026-11-21 00:00:00'`,
    rule: 'sample standard deviation sqrt(2.2 / 4); 11 quantiles 0, 0.01, ..., 0.5 (6th), ..., 1; element_at with -1 takes the last',
    expected: [{ stddev: Math.sqrt(0.55), median: 5.9, q0: 5.0, q100: 6.7, q50: 5.9, n: 11 }],
  },
  {
    name: 'profile: slices by model version',
    sql: `SELECT slice_value, "count" FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key = 'model_version' AND granularity = '1 day' AND window_start = TIMESTAMP '2026-11-21 00:00:00'`,
    rule: 'day 1: version 2 made 3 predictions (r01, r02), version 3 made 2 (r03)',
    expected: [{ slice_value: '2', count: 3 }, { slice_value: '3', count: 2 }],
  },
  {
    name: 'profile: a model\'s own :table row',
    sql: `SELECT "count" FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = 'iris-classifier/3' AND slice_key IS NULL AND granularity = '1 day' AND window_start = TIMESTAMP '2026-11-22 00:00:00'`,
    rule: 'model_id <name>/<version>: version 3 predicted once on day 2 (r06)',
    expected: [{ count: 1 }],
  },
  {
    name: 'profile: data types of the profiled columns',
    sql: `SELECT DISTINCT column_name, data_type FROM iris_profile_metrics WHERE column_name IN (':table', 'sepal_length', 'prediction')`,
    rule: 'data_type is the unpacked column\'s type, `table` for :table rows',
    expected: [{ column_name: ':table', data_type: 'table' }, { column_name: 'sepal_length', data_type: 'DOUBLE' }, { column_name: 'prediction', data_type: 'BIGINT' }],
  },
  {
    name: 'profile: the confusion matrix struct',
    sql: `SELECT confusion_matrix.labels AS labels, confusion_matrix.matrix AS matrix, confusion_matrix.matrix[2][3] AS label1_as_2 FROM iris_profile_metrics WHERE ${TABLE_ROWS} AND granularity = '1 day' AND window_start = TIMESTAMP '2026-11-21 00:00:00'`,
    rule: 'struct field access with .field, nested array subscripts; day 1 labelled rows: (0,0) twice, label 1 predicted 2, label 2 predicted 2',
    expected: [{ labels: ['0', '1', '2'], matrix: [[2, 0, 0], [0, 0, 1], [0, 0, 1]], label1_as_2: 1 }],
  },
  {
    name: 'profile: hourly windows with predictions',
    sql: `SELECT count(*) AS windows, sum("count") AS predictions FROM iris_profile_metrics WHERE ${TABLE_ROWS} AND granularity = '1 hour' AND "count" > 0`,
    rule: 'predictions fall in 5 hours: 21 22:00 (3), 21 23:00 (2), 22 00:00 (4), 22 12:00 (1), 22 23:00 (1)',
    expected: [{ windows: 5, predictions: 11 }],
  },
  {
    name: 'profile: window length',
    sql: `SELECT DISTINCT granularity, date_diff('hour', window_start, window_end) AS hours FROM iris_profile_metrics`,
    rule: 'date_diff between the window bounds',
    expected: [{ granularity: '1 day', hours: 24 }, { granularity: '1 hour', hours: 1 }],
  },
  {
    name: 'drift: consecutive days of a feature, ks_test.statistic',
    sql: `SELECT CAST(window_start AS DATE) AS day, window_cmp.start AS compared_with, base_count, current_count, count_delta, avg_delta, ks_test.statistic AS ks, verdict FROM iris_drift_metrics WHERE ${DAILY} AND column_name = 'sepal_length' AND drift_type = 'CONSECUTIVE'`,
    rule: 'ROW fields with .field; the two-sample KS statistic of the two days is max |F1 - F2| = 7/30; 5 and 6 values are under min_samples 20',
    expected: [{ day: '2026-11-22', compared_with: '2026-11-21 00:00:00.000000', base_count: 5, current_count: 6, count_delta: 1, avg_delta: 0.2, ks: 7 / 30, verdict: 'INSUFFICIENT_DATA' }],
  },
  {
    name: 'drift: against the baseline',
    sql: `SELECT CAST(window_start AS DATE) AS day, window_cmp IS NULL AS no_window, base_count, current_count, count_delta, verdict FROM iris_drift_metrics WHERE ${DAILY} AND column_name = 'sepal_length' AND drift_type = 'BASELINE'`,
    rule: 'BASELINE rows compare with the 150 baseline values; count_delta is the window\'s count minus the baseline\'s',
    expected: [
      { day: '2026-11-21', no_window: true, base_count: 150, current_count: 5, count_delta: -145, verdict: 'INSUFFICIENT_DATA' },
      { day: '2026-11-22', no_window: true, base_count: 150, current_count: 6, count_delta: -144, verdict: 'INSUFFICIENT_DATA' },
    ],
  },
  {
    name: 'drift: no verdict without enough values',
    sql: `SELECT count(*) > 0 AS has_rows, count_if(verdict = 'DRIFT') AS drifted, count_if(pvalue_adjusted IS NOT NULL) AS adjusted FROM iris_drift_metrics`,
    rule: 'every window holds fewer than 20 values, so every row is INSUFFICIENT_DATA with a NULL adjusted p-value',
    expected: [{ has_rows: true, drifted: 0, adjusted: 0 }],
  },
];
