import { z } from 'zod';
import { RefreshMetric, type RefreshMetricName } from '../metric-names.js';
import type { MetricDatum } from '../ports.js';
import { ALL_MODELS, METRICS_KEY_COLUMNS, type MetricsColumn, type ShapeOf, TABLE_COLUMN, column, shapeOf } from './columns.js';

/**
 * The columns of `<endpoint>_profile_metrics` (Lakehouse Monitoring's InferenceLog profile),
 * declared once: the row type, the empty row, the table's SQL columns, the README's column
 * table and the CloudWatch metrics of `:table` rows are derived from this list. Adding a
 * column is one entry here and the code that computes it (`profile.ts`, `quality.ts`).
 */

/** Quantiles stored in `quantiles`, in order. */
export const QUANTILES = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1] as const;
/** Frequent items kept per categorical column. */
export const FREQUENT_ITEMS = 10;

/** A profile column, with its value before anything is computed and the metric it is published as. */
export interface ProfileColumn<N extends string = string, S extends z.ZodType = z.ZodType> extends MetricsColumn<N, S> {
  /** The value of a row whose column has no value (null unless given). */
  readonly empty: z.output<S>;
  /** The CloudWatch metric of the column on `:table` rows of all models, unsliced. */
  readonly metric?: PublishedAs<z.output<S>>;
}

/** How a column is published: the metric's name, its unit, and the number taken from the value. */
export interface PublishedAs<T> {
  readonly name: RefreshMetricName;
  readonly unit: MetricDatum['unit'];
  value?(v: T): number | null | undefined;
}

function stat<const N extends string, S extends z.ZodType>(name: N, schema: S, description: string, more: { empty?: z.output<S>; metric?: PublishedAs<z.output<S>> } = {}): ProfileColumn<N, S> {
  return { ...column(name, schema, description), empty: (more.empty ?? null) as z.output<S>, ...(more.metric ? { metric: more.metric } : {}) };
}

const count = z.int();
const share = z.number().nullable();
const averaged = z.object({ macro: z.number(), weighted: z.number() }).nullable();
const onTable = `On \`${TABLE_COLUMN}\` rows:`;
const onWhole = `On unsliced \`${TABLE_COLUMN}\` rows, of all models (\`${ALL_MODELS}\`) and of each (a model that only failed has a row of its own):`;
const published = (name: RefreshMetricName, unit: MetricDatum['unit'] = 'None') => ({ name, unit });

/** The statistics of a profile row, in column order (after {@link METRICS_KEY_COLUMNS}). */
export const PROFILE_STAT_COLUMNS = [
  stat('count', count, 'Rows of the window, nulls included (on `:table` rows: predictions).', { empty: 0, metric: published(RefreshMetric.predictions, 'Count') }),
  stat('num_nulls', count, 'Null values.', { empty: 0 }),
  stat('percent_null', share, 'Share of null values.'),
  stat('num_nan', count.nullable(), 'NaN values (numeric columns).'),
  stat('num_zeros', count.nullable(), 'Zeros (numeric columns).'),
  stat('percent_zeros', share, 'Share of zeros (numeric columns).'),
  stat('avg', z.number().nullable(), 'Mean of the values that are neither null nor NaN (numeric columns).'),
  stat('stddev', z.number().nullable(), 'Their sample standard deviation, as Spark and Athena compute it.'),
  stat('min', z.number().nullable(), 'The smallest of them.'),
  stat('max', z.number().nullable(), 'The largest.'),
  stat('quantiles', z.array(z.number()).nullable(), `Their quantiles ${QUANTILES.join(', ')}, linear between order statistics (numpy's default).`),
  stat('median', z.number().nullable(), 'Their median.'),
  stat('distinct_count', count.nullable(), 'Distinct values, nulls and NaN left out.'),
  stat('percent_distinct', share, '`distinct_count` divided by `count`.'),
  stat('frequent_items', z.array(z.object({ item: z.string(), count: z.int() })).nullable(), `The ${FREQUENT_ITEMS} most frequent values and their counts (categorical columns).`),
  stat('min_length', count.nullable(), 'Shortest value as text, in characters (categorical columns).'),
  stat('max_length', count.nullable(), 'Longest value as text, in characters.'),
  stat('avg_length', z.number().nullable(), 'Mean length of the values as text.'),
  stat('accuracy_score', z.number().nullable(), `${onTable} share of labelled predictions that are right (classification).`, { metric: published(RefreshMetric.accuracy) }),
  stat('precision', averaged, `${onTable} precision, macro and weighted averages over the classes.`),
  stat('recall', averaged, `${onTable} recall, macro and weighted.`),
  stat('f1_score', averaged, `${onTable} F1 score, macro and weighted.`, { metric: { ...published(RefreshMetric.f1Macro), value: (f1) => f1?.macro } }),
  stat('confusion_matrix', z.object({ labels: z.array(z.string()), matrix: z.array(z.array(z.int())) }).nullable(), `${onTable} counts by label (rows) and prediction (columns), both in \`labels\` order.`),
  stat('roc_auc', z.number().nullable(), `${onTable} area under the ROC curve, when the model returned probabilities and labels are class indices.`, { metric: published(RefreshMetric.rocAuc) }),
  stat('log_loss', z.number().nullable(), `${onTable} log loss, under the same condition.`, { metric: published(RefreshMetric.logLoss) }),
  stat('mean_absolute_error', z.number().nullable(), `${onTable} mean absolute error (regression).`, { metric: published(RefreshMetric.meanAbsoluteError) }),
  stat('mean_squared_error', z.number().nullable(), `${onTable} mean squared error.`),
  stat('root_mean_squared_error', z.number().nullable(), `${onTable} its square root.`, { metric: published(RefreshMetric.rootMeanSquaredError) }),
  stat('r2_score', z.number().nullable(), `${onTable} coefficient of determination.`, { metric: published(RefreshMetric.r2) }),
  stat('mean_absolute_percentage_error', z.number().nullable(), `${onTable} mean absolute percentage error (divided by max(abs(label), machine epsilon)).`, { metric: published(RefreshMetric.meanAbsolutePercentageError) }),
  stat('labeled_count', count.nullable(), `${onTable} predictions with a label (quality is computed over these).`),
  stat('label_coverage', share, `${onTable} share of predictions with a label.`, { metric: published(RefreshMetric.labelCoverage) }),
  stat('request_count', count.nullable(), `${onWhole} captured requests weighted by 1/\`sampling_fraction\`.`, { metric: published(RefreshMetric.requestCount, 'Count') }),
  stat('error_rate', share, `${onWhole} share of requests answered 5xx.`, { metric: published(RefreshMetric.errorRate) }),
  stat('latency_p50_ms', z.number().nullable(), `${onWhole} median time the model backend took, in ms.`, { metric: published(RefreshMetric.latencyP50, 'Milliseconds') }),
  stat('latency_p99_ms', z.number().nullable(), `${onWhole} its 99th percentile.`, { metric: published(RefreshMetric.latencyP99, 'Milliseconds') }),
  stat(
    'partial_reason',
    z.string().nullable(),
    `${onWhole} why the window's figures may be short: payload files of its days were in quarantine when it was computed (null when complete). \`inference-tables repair\` recomputes the window once they are back.`,
  ),
] as const;

/** Every column of a profile row, in order. */
export const PROFILE_ROW_COLUMNS = [...METRICS_KEY_COLUMNS, ...PROFILE_STAT_COLUMNS] as const;

/** zod schema of a row of `<endpoint>_profile_metrics` as the metrics step computes it. */
export const profileRowSchema = z.strictObject(shapeOf(PROFILE_ROW_COLUMNS));

/** A row of `<endpoint>_profile_metrics`. */
export type ProfileRow = z.infer<typeof profileRowSchema>;

/** The statistics of a profile row: everything but its key. */
export type StatsPart = z.infer<z.ZodObject<ShapeOf<typeof PROFILE_STAT_COLUMNS>>>;

/** The statistics of a column without a value: counts 0, the rest null. */
export const NO_STATS: Readonly<StatsPart> = Object.fromEntries(PROFILE_STAT_COLUMNS.map((c) => [c.name, c.empty])) as StatsPart;

/** Profile columns published to CloudWatch from `:table` rows, with how. */
export const PUBLISHED_PROFILE_COLUMNS: readonly { readonly column: keyof StatsPart; readonly metric: PublishedAs<unknown> }[] = (PROFILE_STAT_COLUMNS as readonly ProfileColumn[]).flatMap((c) =>
  c.metric ? [{ column: c.name as keyof StatsPart, metric: c.metric }] : [],
);
