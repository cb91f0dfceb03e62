import type { Granularity, MonitoringSettings } from './config/index.js';
import { type DriftStatistics, categoricalDrift, frequencies, numericDriftSorted } from './stats/drift.js';
import { type ClassificationQuality, type RegressionQuality, classificationQuality, regressionQuality } from './stats/quality.js';
import type { ColumnType } from './unpacked-schema.js';

/**
 * The metrics of the refresh workflow, per window: a profile of every column (Lakehouse
 * Monitoring's InferenceLog profile), model quality on `:table` rows, drift against the
 * previous window and a baseline with a verdict, and the alerts the thresholds raise.
 */

/** The model id of rows that aggregate every model. */
export const ALL_MODELS = '*';
/** The column name of table-level rows. */
export const TABLE_COLUMN = ':table';
/** Quantiles stored in `quantiles`, in order. */
export const QUANTILES = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1] as const;
/** Frequent items kept per categorical column. */
export const FREQUENT_ITEMS = 10;
/** Values of a slice column that get a slice of their own, the most frequent first. */
export const SLICE_VALUES = 20;

const MINUTE = 60_000;
const WINDOW_MS: Readonly<Record<Granularity, number>> = {
  '5 minutes': 5 * MINUTE,
  '30 minutes': 30 * MINUTE,
  '1 hour': 60 * MINUTE,
  '1 day': 1440 * MINUTE,
  '1 week': 7 * 1440 * MINUTE,
};
// Weeks start on Monday (as date_trunc('week') in Athena and DuckDB); 1970-01-05 was one.
const MONDAY = Date.UTC(1970, 0, 5);

/** Start of the window of `granularity` that holds `t` (epoch ms, UTC). */
export function windowStart(granularity: Granularity, t: number): number {
  const w = WINDOW_MS[granularity];
  const origin = granularity === '1 week' ? MONDAY : 0;
  return Math.floor((t - origin) / w) * w + origin;
}

/** Length of a window of `granularity`, in ms. */
export function windowLength(granularity: Granularity): number {
  return WINDOW_MS[granularity];
}

/** A column monitored: a feature, the prediction or the label. */
export interface MonitoredColumn {
  readonly column: string;
  readonly type: ColumnType;
}

/** One row of the unpacked table, as the metrics step reads it. */
export interface PredictionRow {
  readonly t: number;
  readonly model_id: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly prediction: unknown;
  readonly probabilities: readonly number[] | null;
  readonly label: unknown;
}

/** Rows by column, as the metrics step reads them (no object per row). */
export interface PredictionBatch {
  readonly size: number;
  /** Epoch ms of each row. */
  readonly t: ArrayLike<number>;
  /** Index of each row's model id in `models`. */
  readonly model: ArrayLike<number>;
  readonly models: readonly string[];
  /** The features, `prediction` and `label`, by column name. */
  readonly columns: ReadonlyMap<string, ArrayLike<unknown>>;
  /** Class probabilities of each row (arrays, or their JSON text), when read. */
  readonly probabilities: ArrayLike<unknown> | null;
}

/** A batch of rows given one by one (tests, small reads). */
export function batchOf(rows: readonly PredictionRow[], columns: readonly string[] = [...new Set(rows.flatMap((r) => Object.keys(r.values)))]): PredictionBatch {
  const models = [...new Set(rows.map((r) => r.model_id))];
  const index = new Map(models.map((m, i) => [m, i]));
  return {
    size: rows.length,
    t: rows.map((r) => r.t),
    model: rows.map((r) => index.get(r.model_id) as number),
    models,
    columns: new Map<string, unknown[]>([...columns.map((c) => [c, rows.map((r) => r.values[c])] as [string, unknown[]]), ['prediction', rows.map((r) => r.prediction)], ['label', rows.map((r) => r.label)]]),
    probabilities: rows.map((r) => r.probabilities),
  };
}

/** Request-level figures of a window, from the payload table. */
export interface TrafficFigures {
  readonly request_count: number;
  readonly error_rate: number;
  readonly latency_p50_ms: number | null;
  readonly latency_p99_ms: number | null;
}

type Averaged = { macro: number; weighted: number } | null;

/** The keys of a metrics row: its window, model, slice and column. */
export interface MetricsKey {
  window_start: string;
  window_end: string;
  granularity: Granularity;
  model_id: string;
  slice_key: string | null;
  slice_value: string | null;
  column_name: string;
  data_type: string;
}

/** A row of `<endpoint>_profile_metrics`. */
export interface ProfileRow extends MetricsKey {
  count: number;
  num_nulls: number;
  percent_null: number | null;
  num_nan: number | null;
  num_zeros: number | null;
  percent_zeros: number | null;
  avg: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
  quantiles: number[] | null;
  median: number | null;
  distinct_count: number | null;
  percent_distinct: number | null;
  frequent_items: { item: string; count: number }[] | null;
  min_length: number | null;
  max_length: number | null;
  avg_length: number | null;
  accuracy_score: number | null;
  precision: Averaged;
  recall: Averaged;
  f1_score: Averaged;
  confusion_matrix: { labels: string[]; matrix: number[][] } | null;
  roc_auc: number | null;
  log_loss: number | null;
  mean_absolute_error: number | null;
  mean_squared_error: number | null;
  root_mean_squared_error: number | null;
  r2_score: number | null;
  mean_absolute_percentage_error: number | null;
  labeled_count: number | null;
  label_coverage: number | null;
  request_count: number | null;
  error_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
}

/** What a drift row concludes. */
export type Verdict = 'DRIFT' | 'NO_DRIFT' | 'INSUFFICIENT_DATA';

/** The drift statistics columns a drift row and a `drift` command row share. */
export interface DriftColumns {
  ks_test: { statistic: number; pvalue: number } | null;
  chi_squared_test: { statistic: number; pvalue: number } | null;
  js_distance: number | null;
  wasserstein_distance: number | null;
  population_stability_index: number | null;
  tv_distance: number | null;
  l_infinity_distance: number | null;
}

/** The statistics of a comparison as row columns; all null when a side had no value. */
function driftColumns(d: DriftStatistics | null): DriftColumns {
  return {
    ks_test: d?.ks_test ? { statistic: d.ks_test.statistic, pvalue: d.ks_test.pvalue } : null,
    chi_squared_test: d?.chi_squared_test ?? null,
    js_distance: d?.js_distance ?? null,
    wasserstein_distance: d?.wasserstein_distance ?? null,
    population_stability_index: d?.population_stability_index ?? null,
    tv_distance: d?.tv_distance ?? null,
    l_infinity_distance: d?.l_infinity_distance ?? null,
  };
}

/** A row of `<endpoint>_drift_metrics`. */
export interface DriftRow extends MetricsKey, DriftColumns {
  drift_type: 'CONSECUTIVE' | 'BASELINE';
  window_cmp: { start: string; end: string } | null;
  count_delta: number;
  avg_delta: number | null;
  percent_null_delta: number | null;
  base_count: number;
  current_count: number;
  pvalue_adjusted: number | null;
  verdict: Verdict;
}

/** What an alert is about. */
export const ALERT_KINDS = ['drift', 'quality', 'error_rate', 'latency', 'volume'] as const;

/** A row of `<endpoint>_alerts`. */
export interface AlertRow {
  window_start: string;
  granularity: Granularity;
  model_id: string;
  kind: (typeof ALERT_KINDS)[number];
  metric: string;
  column_name: string | null;
  value: number;
  threshold: number;
  message: string;
}

const iso = (t: number) => new Date(t).toISOString().replace('T', ' ').replace('Z', '');

const isNumericType = (t: ColumnType) => t === 'DOUBLE' || t === 'BIGINT';

/** Quantile of sorted values, linear between order statistics (numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

const asNumber = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : typeof v === 'number' ? v : Number(v));
const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function emptyProfile(key: Omit<ProfileRow, keyof StatsPart>): ProfileRow {
  return { ...key, ...NO_STATS };
}

type StatsPart = Omit<ProfileRow, keyof MetricsKey>;
const NO_STATS: StatsPart = {
  count: 0,
  num_nulls: 0,
  percent_null: null,
  num_nan: null,
  num_zeros: null,
  percent_zeros: null,
  avg: null,
  stddev: null,
  min: null,
  max: null,
  quantiles: null,
  median: null,
  distinct_count: null,
  percent_distinct: null,
  frequent_items: null,
  min_length: null,
  max_length: null,
  avg_length: null,
  accuracy_score: null,
  precision: null,
  recall: null,
  f1_score: null,
  confusion_matrix: null,
  roc_auc: null,
  log_loss: null,
  mean_absolute_error: null,
  mean_squared_error: null,
  root_mean_squared_error: null,
  r2_score: null,
  mean_absolute_percentage_error: null,
  labeled_count: null,
  label_coverage: null,
  request_count: null,
  error_rate: null,
  latency_p50_ms: null,
  latency_p99_ms: null,
};

/** A sample of one column for drift: sorted numbers (NaN left out), or counts per category. */
export type Sample = { kind: 'numeric'; sorted: Float64Array } | { kind: 'categorical'; counts: Map<string, number> };

/** A column's profile and its drift sample, from one pass and one sort. */
function summarize(source: ArrayLike<unknown>, index: readonly number[] | null, type: ColumnType): { stats: StatsPart; sample: Sample } {
  const count = index ? index.length : source.length;
  const at = index ? (k: number) => source[index[k] as number] : (k: number) => source[k];
  let nulls = 0;
  if (isNumericType(type)) {
    const nums = new Float64Array(count);
    let n = 0;
    let nan = 0;
    let zeros = 0;
    for (let k = 0; k < count; k++) {
      const x = asNumber(at(k));
      if (x === null) nulls++;
      else if (Number.isNaN(x)) nan++;
      else {
        if (x === 0) zeros++;
        nums[n++] = x;
      }
    }
    const sorted = nums.subarray(0, n).sort();
    let mean = 0;
    for (let i = 0; i < n; i++) mean += sorted[i] as number;
    mean = n ? mean / n : 0;
    let ss = 0;
    let distinct = 0;
    for (let i = 0; i < n; i++) {
      ss += ((sorted[i] as number) - mean) ** 2;
      if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
    }
    const stats: StatsPart = {
      ...NO_STATS,
      count,
      num_nulls: nulls,
      percent_null: count ? nulls / count : null,
      num_nan: nan,
      num_zeros: zeros,
      percent_zeros: count ? zeros / count : null,
      avg: n ? mean : null,
      // The sample standard deviation, as Spark's stddev and Athena's stddev.
      stddev: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
      min: n ? (sorted[0] as number) : null,
      max: n ? (sorted[n - 1] as number) : null,
      quantiles: n ? QUANTILES.map((q) => quantile(sorted, q)) : null,
      median: n ? quantile(sorted, 0.5) : null,
      distinct_count: distinct,
      percent_distinct: count ? distinct / count : null,
    };
    return { stats, sample: { kind: 'numeric', sorted } };
  }
  const freq = new Map<string, number>();
  let minLength = Number.POSITIVE_INFINITY;
  let maxLength = 0;
  let totalLength = 0;
  for (let k = 0; k < count; k++) {
    const v = at(k);
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const text = String(v);
    freq.set(text, (freq.get(text) ?? 0) + 1);
    const length = [...text].length;
    minLength = Math.min(minLength, length);
    maxLength = Math.max(maxLength, length);
    totalLength += length;
  }
  const present = count - nulls;
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, FREQUENT_ITEMS);
  const stats: StatsPart = {
    ...NO_STATS,
    count,
    num_nulls: nulls,
    percent_null: count ? nulls / count : null,
    distinct_count: freq.size,
    percent_distinct: count ? freq.size / count : null,
    frequent_items: top.map(([item, c]) => ({ item, count: c })),
    min_length: present ? minLength : null,
    max_length: present ? maxLength : null,
    avg_length: present ? totalLength / present : null,
  };
  return { stats, sample: { kind: 'categorical', counts: freq } };
}

/** The profile statistics of one column's values. */
export function profileValues(values: readonly unknown[], type: ColumnType): StatsPart {
  return summarize(values, null, type).stats;
}

function parseProbabilities(value: unknown): number[] | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(Number);
  const text = String(value).trim();
  return text.startsWith('[') ? text.slice(1, -1).split(',').filter((x) => x.trim() !== '').map(Number) : null;
}

/** Quality of the labelled rows of a group, with the share that had a label. */
function qualityOf(batch: PredictionBatch, index: readonly number[], problem: 'classification' | 'regression'): Partial<StatsPart> {
  const labels = batch.columns.get('label') ?? [];
  const predictions = batch.columns.get('prediction') ?? [];
  const present = (v: unknown) => v !== null && v !== undefined;
  const labelled = index.filter((i) => present(labels[i]) && present(predictions[i]));
  const coverage = { labeled_count: labelled.length, label_coverage: index.length ? labelled.length / index.length : null };
  if (labelled.length === 0) return coverage;
  if (problem === 'regression') {
    const q: RegressionQuality = regressionQuality(
      labelled.map((i) => asNumber(labels[i]) as number),
      labelled.map((i) => asNumber(predictions[i]) as number),
    );
    return { ...coverage, ...q };
  }
  const probabilities = batch.probabilities ? labelled.map((i) => parseProbabilities(batch.probabilities?.[i])) : undefined;
  const q: ClassificationQuality = classificationQuality(
    labelled.map((i) => String(labels[i])),
    labelled.map((i) => String(predictions[i])),
    probabilities?.every((p) => p) ? probabilities : undefined,
  );
  return { ...coverage, ...q };
}

/** Benjamini–Hochberg adjusted p-values, in the input's order. */
export function benjaminiHochberg(pvalues: readonly number[]): number[] {
  const m = pvalues.length;
  const order = pvalues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k] as readonly [number, number];
    running = Math.min(running, (p * m) / (k + 1));
    adjusted[i] = running;
  }
  return adjusted;
}

function sampleOf(values: readonly unknown[], type: ColumnType): Sample {
  return summarize(values, null, type).sample;
}

const sampleSize = (s: Sample) => (s.kind === 'numeric' ? s.sorted.length : [...s.counts.values()].reduce((a, b) => a + b, 0));

/** Drift statistics of two samples of a column, or null when either side has no value. */
export function driftOf(base: Sample, current: Sample): DriftStatistics | null {
  if (sampleSize(base) === 0 || sampleSize(current) === 0) return null;
  if (base.kind === 'numeric' && current.kind === 'numeric') return numericDriftSorted(base.sorted, current.sorted);
  const counts = (s: Sample) => (s.kind === 'categorical' ? s.counts : frequencies(Array.from(s.sorted, String)));
  return categoricalDrift(counts(base), counts(current));
}

/**
 * Verdicts of one comparison's columns: the test p-values (KS or chi-squared) are adjusted
 * for the number of columns tested (Benjamini–Hochberg at `alpha`); a column drifts when its
 * adjusted p-value is below `alpha` and its JS distance reaches `min_js_distance`, so a
 * large window does not turn a negligible shift into an alert. Either side below
 * `min_samples` values gives INSUFFICIENT_DATA.
 */
export function verdicts(rows: readonly Pick<DriftRow, 'ks_test' | 'chi_squared_test' | 'js_distance' | 'base_count' | 'current_count'>[], settings: MonitoringSettings['drift']): { pvalue_adjusted: number | null; verdict: Verdict }[] {
  const tested = rows.map((r, i) => ({ i, p: r.ks_test?.pvalue ?? r.chi_squared_test?.pvalue, ok: r.base_count >= settings.min_samples && r.current_count >= settings.min_samples })).filter((x) => x.ok && x.p !== undefined);
  const adjusted = benjaminiHochberg(tested.map((x) => x.p as number));
  const byRow = new Map(tested.map((x, k) => [x.i, adjusted[k] as number]));
  return rows.map((r, i) => {
    const p = byRow.get(i);
    if (p === undefined) return { pvalue_adjusted: null, verdict: 'INSUFFICIENT_DATA' };
    return { pvalue_adjusted: p, verdict: p < settings.alpha && (r.js_distance ?? 0) >= settings.min_js_distance ? 'DRIFT' : 'NO_DRIFT' };
  });
}

/** Everything the metrics of one endpoint's windows are computed from. */
export interface MetricsInput {
  readonly settings: MonitoringSettings;
  readonly columns: readonly MonitoredColumn[];
  readonly predictionType: ColumnType;
  /** Rows of the windows to compute and of the windows before them. */
  readonly batch: PredictionBatch;
  /** Window starts (epoch ms) to compute, per granularity. */
  readonly windows: ReadonlyMap<Granularity, readonly number[]>;
  /** The baseline's values per column, when one is configured. */
  readonly baseline: ReadonlyMap<string, readonly unknown[]> | null;
  /** Request-level figures per granularity and window start. */
  readonly traffic: ReadonlyMap<string, TrafficFigures>;
  /** The current instant (epoch ms): a window still open is not judged on its volume. */
  readonly now?: number;
  /**
   * The figures of the window before the first one, carried from the computation of the
   * previous batch, so its rows need not be read again.
   */
  readonly carried?: CarriedWindow;
}

/** A window's figures by group and column, to serve as the next window's CONSECUTIVE base. */
export interface CarriedWindow {
  readonly granularity: Granularity;
  readonly start: number;
  readonly groups: ReadonlyMap<string, ReadonlyMap<string, { readonly stats: StatsPart; readonly sample: Sample }>>;
}

/** What one computation produces. */
export interface MetricsOutput {
  /** The figures of the last window computed, for the next batch of the same granularity. */
  readonly last?: CarriedWindow;
  readonly profile: ProfileRow[];
  readonly drift: DriftRow[];
  readonly alerts: AlertRow[];
}

/** Key of a window's traffic figures. */
export const trafficKey = (granularity: Granularity, start: number) => `${granularity}|${start}`;

interface Group {
  readonly model_id: string;
  readonly slice_key: string | null;
  readonly slice_value: string | null;
  /** Row numbers in the batch. */
  readonly rows: number[];
}

/**
 * The groups of a window: every model and all models, each whole and by slice. A group with
 * all of its parent's rows shares the parent's array (one model, one slice value), so its
 * figures are computed once.
 */
function groupsOf(batch: PredictionBatch, rows: number[], slices: readonly string[]): Group[] {
  const versions = batch.models.map((id) => id.slice(id.lastIndexOf('/') + 1));
  const models = new Map<string, number[]>([[ALL_MODELS, rows]]);
  const byModel = new Map<number, number[]>();
  for (const i of rows) {
    const m = batch.model[i] as number;
    const list = byModel.get(m) ?? [];
    if (list.length === 0) byModel.set(m, list);
    list.push(i);
  }
  for (const [m, list] of byModel) models.set(batch.models[m] as string, list.length === rows.length ? rows : list);
  const groups: Group[] = [];
  for (const [model_id, list] of models) {
    groups.push({ model_id, slice_key: null, slice_value: null, rows: list });
    for (const key of slices) {
      const column = batch.columns.get(key);
      const byValue = new Map<string, number[]>();
      for (const i of list) {
        // model_id is `<model name>/<version>`.
        const v = key === 'model_version' ? (versions[batch.model[i] as number] as string) : asText(column?.[i]);
        if (v === null) continue;
        const l = byValue.get(v) ?? [];
        if (l.length === 0) byValue.set(v, l);
        l.push(i);
      }
      const top = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0])).slice(0, SLICE_VALUES);
      for (const [value, l] of top) groups.push({ model_id, slice_key: key, slice_value: value, rows: l.length === list.length ? list : l });
    }
  }
  return groups;
}

const groupKey = (g: Pick<Group, 'model_id' | 'slice_key' | 'slice_value'>) => `${g.model_id}\u0000${g.slice_key ?? ''}\u0000${g.slice_value ?? ''}`;

/** Computes the profile, drift and alerts of the requested windows. */
export function computeMetrics(input: MetricsInput): MetricsOutput {
  const { settings } = input;
  const problem = settings.problem_type ?? (input.predictionType === 'DOUBLE' ? 'regression' : 'classification');
  const monitored: MonitoredColumn[] = [...input.columns, { column: 'prediction', type: input.predictionType }];
  const baselineSamples = input.baseline
    ? new Map(monitored.filter((c) => input.baseline?.has(c.column)).map((c) => [c.column, sampleOf(input.baseline?.get(c.column) ?? [], c.type)]))
    : null;
  // Figures of a group's column, of a group's quality and of a pair of samples, computed once:
  // a window is compared with the next one as well, and groups can share their rows.
  const { batch } = input;
  const summaries = new WeakMap<number[], Map<string, { stats: StatsPart; sample: Sample }>>();
  const summaryOf = (rows: number[], c: MonitoredColumn) => {
    let byColumn = summaries.get(rows);
    if (!byColumn) summaries.set(rows, (byColumn = new Map()));
    let found = byColumn.get(c.column);
    if (!found) byColumn.set(c.column, (found = summarize(batch.columns.get(c.column) ?? [], rows, c.type)));
    return found;
  };
  const qualities = new WeakMap<number[], Partial<StatsPart>>();
  const qualityOfRows = (rows: number[]) => {
    let q = qualities.get(rows);
    if (!q) qualities.set(rows, (q = qualityOf(batch, rows, problem)));
    return q;
  };
  const drifts = new WeakMap<Sample, WeakMap<Sample, DriftStatistics | null>>();
  const driftOfSamples = (base: Sample, current: Sample) => {
    let byCurrent = drifts.get(base);
    if (!byCurrent) drifts.set(base, (byCurrent = new WeakMap()));
    if (!byCurrent.has(current)) byCurrent.set(current, driftOf(base, current));
    return byCurrent.get(current) ?? null;
  };
  const profile: ProfileRow[] = [];
  const drift: DriftRow[] = [];
  const alerts: AlertRow[] = [];
  const groupsByGranularity = new Map<Granularity, Map<number, Group[]>>();
  let lastWindow: { granularity: Granularity; start: number } | undefined;
  for (const [granularity, starts] of input.windows) {
    const length = windowLength(granularity);
    const byWindow = new Map<number, number[]>();
    for (let i = 0; i < batch.size; i++) {
      const s = windowStart(granularity, batch.t[i] as number);
      const l = byWindow.get(s) ?? [];
      if (l.length === 0) byWindow.set(s, l);
      l.push(i);
    }
    const groupsByWindow = new Map<number, Group[]>();
    groupsByGranularity.set(granularity, groupsByWindow);
    const groupsAt = (start: number) => {
      let groups = groupsByWindow.get(start);
      if (!groups) groupsByWindow.set(start, (groups = groupsOf(batch, byWindow.get(start) ?? [], settings.slices)));
      return groups;
    };
    for (const start of starts) {
      const rows = byWindow.get(start) ?? [];
      const traffic = input.traffic.get(trafficKey(granularity, start));
      if (rows.length === 0 && !traffic) continue;
      const window = { window_start: iso(start), window_end: iso(start + length), granularity };
      const loadedBefore = [...byWindow.keys()].filter((s) => s < start).sort((a, b) => b - a)[0];
      const carried = loadedBefore === undefined && input.carried?.granularity === granularity && input.carried.start === start - length ? input.carried : undefined;
      const previousStart = loadedBefore ?? carried?.start;
      const previous = loadedBefore === undefined ? [] : groupsAt(loadedBefore);
      const previousGroups = new Map(previous.map((g) => [groupKey(g), g]));
      for (const group of groupsAt(start)) {
        const key = { ...window, model_id: group.model_id, slice_key: group.slice_key, slice_value: group.slice_value };
        const table: ProfileRow = { ...emptyProfile({ ...key, column_name: TABLE_COLUMN, data_type: 'table' }), count: group.rows.length, ...qualityOfRows(group.rows) };
        if (group.model_id === ALL_MODELS && group.slice_key === null && traffic) Object.assign(table, traffic);
        profile.push(table);
        const columnStats = new Map<string, StatsPart>();
        for (const c of [...monitored, { column: 'label', type: input.predictionType }]) {
          const { stats } = summaryOf(group.rows, c);
          columnStats.set(c.column, stats);
          profile.push({ ...key, column_name: c.column, data_type: c.type, ...stats });
        }
        const comparisons: { type: DriftRow['drift_type']; cmp: DriftRow['window_cmp']; samples: (c: MonitoredColumn) => Sample | undefined; stats: (c: MonitoredColumn) => StatsPart | undefined }[] = [];
        const prev = previousGroups.get(groupKey(group));
        const carriedGroup = carried?.groups.get(groupKey(group));
        if (previousStart !== undefined && (prev || carriedGroup)) {
          comparisons.push({
            type: 'CONSECUTIVE',
            cmp: { start: iso(previousStart), end: iso(previousStart + length) },
            samples: (c) => (prev ? summaryOf(prev.rows, c).sample : carriedGroup?.get(c.column)?.sample),
            stats: (c) => (prev ? summaryOf(prev.rows, c).stats : carriedGroup?.get(c.column)?.stats),
          });
        }
        if (baselineSamples) {
          comparisons.push({ type: 'BASELINE', cmp: null, samples: (c) => baselineSamples.get(c.column), stats: () => undefined });
        }
        for (const cmp of comparisons) {
          const rowsOfCmp: DriftRow[] = [];
          for (const c of monitored) {
            const base = cmp.samples(c);
            if (!base) continue;
            const current = summaryOf(group.rows, c).sample;
            const d = driftOfSamples(base, current);
            const now = columnStats.get(c.column) as StatsPart;
            const before = cmp.stats(c);
            rowsOfCmp.push({
              ...key,
              column_name: c.column,
              data_type: c.type,
              drift_type: cmp.type,
              window_cmp: cmp.cmp,
              count_delta: before ? now.count - before.count : now.count - sampleSize(base),
              avg_delta: before && now.avg !== null && before.avg !== null ? now.avg - before.avg : null,
              percent_null_delta: before && now.percent_null !== null && before.percent_null !== null ? now.percent_null - before.percent_null : null,
              ...driftColumns(d),
              base_count: sampleSize(base),
              current_count: sampleSize(current),
              pvalue_adjusted: null,
              verdict: 'INSUFFICIENT_DATA',
            });
          }
          verdicts(rowsOfCmp, settings.drift).forEach((v, i) => Object.assign(rowsOfCmp[i] as DriftRow, v));
          drift.push(...rowsOfCmp);
        }
      }
      const complete = input.now === undefined || start + length <= input.now;
      const before = complete ? input.traffic.get(trafficKey(granularity, start - length)) : undefined;
      alerts.push(...alertsOf(settings, window, profile, drift, traffic, before));
      lastWindow = { granularity, start };
    }
  }
  if (!lastWindow) return { profile, drift, alerts };
  const groups = new Map<string, ReadonlyMap<string, { stats: StatsPart; sample: Sample }>>();
  for (const g of groupsByGranularity.get(lastWindow.granularity)?.get(lastWindow.start) ?? []) {
    const figures = summaries.get(g.rows);
    if (figures) groups.set(groupKey(g), figures);
  }
  return { profile, drift, alerts, last: { ...lastWindow, groups } };
}

/** The alerts of one window, for all models and no slice. */
function alertsOf(
  settings: MonitoringSettings,
  window: { window_start: string; granularity: Granularity },
  profile: readonly ProfileRow[],
  drift: readonly DriftRow[],
  traffic: TrafficFigures | undefined,
  previousTraffic: TrafficFigures | undefined,
): AlertRow[] {
  const a = settings.alerts;
  const out: AlertRow[] = [];
  const base = { window_start: window.window_start, granularity: window.granularity, model_id: ALL_MODELS };
  const mine = <T extends { window_start: string; granularity: string; model_id: string; slice_key: string | null }>(r: T) =>
    r.window_start === window.window_start && r.granularity === window.granularity && r.model_id === ALL_MODELS && r.slice_key === null;
  for (const type of ['CONSECUTIVE', 'BASELINE'] as const) {
    const drifted = drift.filter((d) => mine(d) && d.drift_type === type && d.verdict === 'DRIFT');
    if (a.drifted_columns > 0 && drifted.length >= a.drifted_columns) {
      out.push({
        ...base,
        kind: 'drift',
        metric: `drifted_columns_${type.toLowerCase()}`,
        column_name: drifted.map((d) => d.column_name).join(','),
        value: drifted.length,
        threshold: a.drifted_columns,
        message: `${drifted.length} column(s) drifted (${type}): ${drifted.map((d) => `${d.column_name} js=${(d.js_distance ?? 0).toFixed(3)}`).join(', ')}`,
      });
    }
  }
  const table = profile.find((p) => mine(p) && p.column_name === TABLE_COLUMN);
  if (table) {
    const value = (m: string): number | null => (m === 'f1_macro' ? (table.f1_score?.macro ?? null) : ((table as unknown as Record<string, number | null>)[m] ?? null));
    for (const [metric, floor] of Object.entries(a.quality_floors)) {
      const v = value(metric);
      if (v !== null && floor !== undefined && v < floor) out.push({ ...base, kind: 'quality', metric, column_name: null, value: v, threshold: floor, message: `${metric} ${v.toFixed(4)} is below ${floor}` });
    }
    for (const [metric, ceiling] of Object.entries(a.quality_ceilings)) {
      const v = value(metric);
      if (v !== null && ceiling !== undefined && v > ceiling) out.push({ ...base, kind: 'quality', metric, column_name: null, value: v, threshold: ceiling, message: `${metric} ${v.toFixed(4)} is above ${ceiling}` });
    }
  }
  if (traffic) {
    if (traffic.error_rate > a.max_error_rate) {
      out.push({ ...base, kind: 'error_rate', metric: 'error_rate', column_name: null, value: traffic.error_rate, threshold: a.max_error_rate, message: `error rate ${(traffic.error_rate * 100).toFixed(1)}% is above ${a.max_error_rate * 100}%` });
    }
    if (traffic.latency_p99_ms !== null && traffic.latency_p99_ms > a.max_p99_latency_ms) {
      out.push({ ...base, kind: 'latency', metric: 'latency_p99_ms', column_name: null, value: traffic.latency_p99_ms, threshold: a.max_p99_latency_ms, message: `p99 latency ${traffic.latency_p99_ms} ms is above ${a.max_p99_latency_ms} ms` });
    }
    if (previousTraffic && previousTraffic.request_count > 0 && traffic.request_count < a.min_volume_ratio * previousTraffic.request_count) {
      out.push({
        ...base,
        kind: 'volume',
        metric: 'request_count',
        column_name: null,
        value: traffic.request_count,
        threshold: a.min_volume_ratio * previousTraffic.request_count,
        message: `${traffic.request_count} requests, below ${a.min_volume_ratio * 100}% of the previous window's ${previousTraffic.request_count}`,
      });
    }
  }
  return out;
}

/** One column of `inference-tables drift`: the drift statistics of a baseline and a current file. */
export interface ColumnDrift extends Readonly<DriftColumns> {
  readonly column: string;
  readonly kind: 'numeric' | 'categorical';
  readonly base_count: number;
  readonly current_count: number;
  readonly pvalue_adjusted: number | null;
  readonly verdict: Verdict;
}

/**
 * Drift of every column two samples share. A column numeric on one side and not the other is
 * compared as text on both.
 */
export function compareSamples(
  base: readonly { name: string; type: ColumnType; values: readonly unknown[] }[],
  current: readonly { name: string; type: ColumnType; values: readonly unknown[] }[],
  settings: MonitoringSettings['drift'],
): ColumnDrift[] {
  const currentByName = new Map(current.map((c) => [c.name, c]));
  const rows: ColumnDrift[] = [];
  for (const b of base) {
    const c = currentByName.get(b.name);
    if (!c) continue;
    const type: ColumnType = isNumericType(b.type) && isNumericType(c.type) ? 'DOUBLE' : 'VARCHAR';
    const bs = sampleOf(b.values, type);
    const cs = sampleOf(c.values, type);
    const d = driftOf(bs, cs);
    rows.push({
      column: b.name,
      kind: type === 'DOUBLE' ? 'numeric' : 'categorical',
      base_count: sampleSize(bs),
      current_count: sampleSize(cs),
      ...driftColumns(d),
      pvalue_adjusted: null,
      verdict: 'INSUFFICIENT_DATA',
    });
  }
  const v = verdicts(rows, settings);
  return rows.map((r, i) => ({ ...r, ...(v[i] as { pvalue_adjusted: number | null; verdict: Verdict }) }));
}
