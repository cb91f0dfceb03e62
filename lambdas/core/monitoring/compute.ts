import type { Granularity, MonitoringSettings } from '../config/index.js';
import type { ColumnType } from '../unpacked-schema.js';
import { type AlertRow, alertsOf } from './alerts.js';
import type { MonitoredColumn, TrafficFigures } from './batch.js';
import { ALL_MODELS, type MetricsKey, TABLE_COLUMN } from './columns.js';
import type { CountBatch } from './counts.js';
import { type DriftRow, verdicts } from './drift.js';
import { driftColumns } from './drift-statistics.js';
import { Figures, Windows } from './figures.js';
import { type Group, groupKey } from './groups.js';
import { type Sample, type Summary, sampleOf, sampleSize } from './profile.js';
import { NO_STATS, type ProfileRow, type StatsPart } from './profile-columns.js';
import { timestampOf, trafficKey, windowLength } from './windows.js';

/**
 * The metrics of the refresh workflow, per window: a profile of every column (Lakehouse
 * Monitoring's InferenceLog profile), model quality on `:table` rows, drift against the
 * previous window and a baseline with a verdict, and the alerts the thresholds raise.
 */

/** Everything the metrics of one endpoint's windows are computed from. */
export interface MetricsInput {
  readonly settings: MonitoringSettings;
  readonly columns: readonly MonitoredColumn[];
  readonly predictionType: ColumnType;
  /** Counts of the values of the windows to compute and of the windows before them. */
  readonly counts: CountBatch;
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

/** What a group's window is compared with, as the base of its drift rows. */
interface Comparison {
  readonly type: DriftRow['drift_type'];
  readonly cmp: DriftRow['window_cmp'];
  samples(c: MonitoredColumn): Sample | undefined;
  stats(c: MonitoredColumn): StatsPart | undefined;
}

/** The state of one computation: its input, the columns monitored and the figures found so far. */
interface Run {
  readonly input: MetricsInput;
  /** Features and prediction: the columns drift compares. */
  readonly monitored: readonly MonitoredColumn[];
  readonly baselineSamples: ReadonlyMap<string, Sample> | null;
  readonly figures: Figures;
}

/** The window before a window, with each group's figures there (a group it did not have has none). */
interface PreviousWindow {
  readonly start: number;
  groupAt(g: Group): ((c: MonitoredColumn) => Summary | undefined) | undefined;
}

/** The window before `start`: one of the batch, or the one carried from the previous batch. */
function previousWindow(run: Run, windows: Windows, start: number): PreviousWindow | undefined {
  const loaded = windows.before(start);
  if (loaded !== undefined) {
    const groups = new Map(windows.groups(loaded).map((g) => [groupKey(g), g]));
    return {
      start: loaded,
      groupAt: (g) => {
        const prev = groups.get(groupKey(g));
        return prev ? (c) => run.figures.summary(prev.members, c) : undefined;
      },
    };
  }
  const carried = run.input.carried;
  if (carried?.granularity !== windows.granularity || carried.start !== start - windowLength(windows.granularity)) return undefined;
  return {
    start: carried.start,
    groupAt: (g) => {
      const figures = carried.groups.get(groupKey(g));
      return figures ? (c) => figures.get(c.column) : undefined;
    },
  };
}

/** The comparisons of a group's window: with the window before (when it has the group), and with the baseline. */
function comparisonsOf(run: Run, group: Group, previous: PreviousWindow | undefined, length: number): Comparison[] {
  const comparisons: Comparison[] = [];
  const before = previous?.groupAt(group);
  if (previous && before) {
    comparisons.push({
      type: 'CONSECUTIVE',
      cmp: { start: timestampOf(previous.start), end: timestampOf(previous.start + length) },
      samples: (c) => before(c)?.sample,
      stats: (c) => before(c)?.stats,
    });
  }
  const baseline = run.baselineSamples;
  if (baseline) comparisons.push({ type: 'BASELINE', cmp: null, samples: (c) => baseline.get(c.column), stats: () => undefined });
  return comparisons;
}

/** A group's profile rows: its `:table` row (with the traffic of its model, or of all, when unsliced), then one per column. */
function profileRowsOf(run: Run, key: Omit<MetricsKey, 'column_name' | 'data_type'>, group: Group, traffic: TrafficFigures | undefined): ProfileRow[] {
  const { input, figures } = run;
  const table: ProfileRow = { ...key, column_name: TABLE_COLUMN, data_type: 'table', ...NO_STATS, count: group.members.count, ...figures.quality(group.members) };
  if (traffic) Object.assign(table, traffic satisfies Partial<StatsPart>);
  const rows = [table];
  for (const c of [...run.monitored, { column: 'label', type: input.predictionType }]) {
    rows.push({ ...key, column_name: c.column, data_type: c.type, ...figures.summary(group.members, c).stats });
  }
  return rows;
}

/** A group's drift rows of one comparison, one per monitored column with a base, with their verdicts. */
function driftRowsOf(run: Run, key: Omit<MetricsKey, 'column_name' | 'data_type'>, group: Group, comparison: Comparison): DriftRow[] {
  const { figures } = run;
  const rows: DriftRow[] = [];
  for (const c of run.monitored) {
    const base = comparison.samples(c);
    if (!base) continue;
    const { sample: current, stats: now } = figures.summary(group.members, c);
    const before = comparison.stats(c);
    rows.push({
      ...key,
      column_name: c.column,
      data_type: c.type,
      drift_type: comparison.type,
      window_cmp: comparison.cmp,
      count_delta: before ? now.count - before.count : now.count - sampleSize(base),
      avg_delta: before && now.avg !== null && before.avg !== null ? now.avg - before.avg : null,
      percent_null_delta: before && now.percent_null !== null && before.percent_null !== null ? now.percent_null - before.percent_null : null,
      ...driftColumns(figures.drift(base, current)),
      base_count: sampleSize(base),
      current_count: sampleSize(current),
      pvalue_adjusted: null,
      verdict: 'INSUFFICIENT_DATA',
    });
  }
  verdicts(rows, run.input.settings.drift).forEach((v, i) => Object.assign(rows[i] as DriftRow, v));
  return rows;
}

/** The rows of one window: profile and drift of each group, then the alerts; none when it has neither rows nor traffic. */
function windowMetrics(run: Run, windows: Windows, start: number): Omit<MetricsOutput, 'last'> | undefined {
  const { input } = run;
  const { granularity } = windows;
  const traffic = input.traffic.get(trafficKey(granularity, start));
  if (windows.count(start) === 0 && !traffic) return undefined;
  const length = windowLength(granularity);
  const window = { window_start: timestampOf(start), window_end: timestampOf(start + length), granularity };
  const previous = previousWindow(run, windows, start);
  const profile: ProfileRow[] = [];
  const drift: DriftRow[] = [];
  const profiled = new Set<string>();
  for (const group of windows.groups(start)) {
    const key = { ...window, model_id: group.model_id, slice_key: group.slice_key, slice_value: group.slice_value };
    const unsliced = group.slice_key === null;
    if (unsliced) profiled.add(group.model_id);
    profile.push(...profileRowsOf(run, key, group, unsliced ? input.traffic.get(trafficKey(granularity, start, group.model_id)) : undefined));
    for (const comparison of comparisonsOf(run, group, previous, length)) drift.push(...driftRowsOf(run, key, group, comparison));
  }
  // A model that only failed has no predictions, and its error rate is the figure that matters.
  const prefix = trafficKey(granularity, start, '');
  for (const [k, figures] of input.traffic) {
    const model = k.slice(prefix.length);
    if (!k.startsWith(prefix) || profiled.has(model)) continue;
    profile.push({ ...window, model_id: model, slice_key: null, slice_value: null, column_name: TABLE_COLUMN, data_type: 'table', ...NO_STATS, count: 0, ...figures });
  }
  // A window still open is not judged on its volume.
  const complete = input.now === undefined || start + length <= input.now;
  const whole = (r: { model_id: string; slice_key: string | null }) => r.model_id === ALL_MODELS && r.slice_key === null;
  const alerts = alertsOf(input.settings, window, {
    table: profile.find((p) => whole(p) && p.column_name === TABLE_COLUMN),
    drift: drift.filter(whole),
    traffic,
    previousTraffic: complete ? input.traffic.get(trafficKey(granularity, start - length)) : undefined,
  });
  return { profile, drift, alerts };
}

/** The figures of a window's groups, carried to the next batch. */
function carry(run: Run, windows: Windows, start: number): CarriedWindow {
  const groups = new Map<string, ReadonlyMap<string, Summary>>();
  for (const g of windows.groups(start)) {
    const figures = run.figures.summariesOf(g.members);
    if (figures) groups.set(groupKey(g), figures);
  }
  return { granularity: windows.granularity, start, groups };
}

/** Computes the profile, drift and alerts of the requested windows. */
export function computeMetrics(input: MetricsInput): MetricsOutput {
  const { settings, baseline } = input;
  const problem = settings.problem_type ?? (input.predictionType === 'DOUBLE' ? 'regression' : 'classification');
  const monitored: MonitoredColumn[] = [...input.columns, { column: 'prediction', type: input.predictionType }];
  const baselineSamples = baseline ? new Map(monitored.filter((c) => baseline.has(c.column)).map((c) => [c.column, sampleOf(baseline.get(c.column) ?? [], c.type)])) : null;
  const run: Run = { input, monitored, baselineSamples, figures: new Figures(input.counts, problem) };
  const out: Omit<MetricsOutput, 'last'> = { profile: [], drift: [], alerts: [] };
  let last: { windows: Windows; start: number } | undefined;
  for (const [granularity, starts] of input.windows) {
    const windows = new Windows(input.counts, run.figures.index('prediction'), granularity);
    for (const start of starts) {
      const rows = windowMetrics(run, windows, start);
      if (!rows) continue;
      // One by one: a window can hold more rows than a call takes arguments.
      for (const r of rows.profile) out.profile.push(r);
      for (const r of rows.drift) out.drift.push(r);
      for (const r of rows.alerts) out.alerts.push(r);
      last = { windows, start };
    }
  }
  return last ? { ...out, last: carry(run, last.windows, last.start) } : out;
}
