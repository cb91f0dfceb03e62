import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { GRANULARITIES, type Granularity, monitoringSettings } from '../core/config/index.js';
import { windowLength } from '../core/monitoring/index.js';
import { tableName } from '../core/names.js';
import type { QueryEngine } from '../core/ports.js';
import { literal, timestampLiteral } from '../core/refresh-sql.js';
import { readSampleFile } from '../core/sample-file.js';
import { featureColumnName } from '../core/unpacked-schema.js';
import { BadParameter, NotFound, knownEndpoint, paramsOf, withEngine } from './read.js';
import { DRIFT_ROWS, type MonitoringScope, PROFILE_ROWS, binWidth, categoryCountsSql, columnNameSchema, numericBinsSql, numericRangeSql, windowDriftSql, windowProfileSql } from './queries.js';
import { dashboardSeries } from './series.js';
import { lastRefresh } from './dashboard.js';
import { readHealth } from '../core/health.js';
import type { UiSource } from './source.js';

/**
 * The page's monitoring views, read from the metrics tables the refresh writes: the choices
 * (windows, models, slices, columns), one window (its quality, confusion matrix, drift
 * verdicts and alerts), and one column (its distribution in the window against the previous
 * window and the baseline, and its drift over time).
 */

/** Bins of a numeric column's histogram: enough to see a shape, few enough to read. */
const HISTOGRAM_BINS = 20;
/** Categories shown of a categorical column, the most frequent; the rest are summed as "(other)". */
const TOP_CATEGORIES = 20;
/** Values read at most from a baseline table or time range. */
const BASELINE_ROWS = 100_000;

const epoch = (start: string) => Date.parse(`${start.replace(' ', 'T').slice(0, 23)}Z`);

const granularity = z.enum(GRANULARITIES).default('1 hour');
const windowStart = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/, 'must be a window start as the tables write it, e.g. 2026-11-30 21:00:00')
  // A date that does not exist (2026-02-30, 99:99) is refused, not rolled over into another window.
  .refine((s) => {
    const at = epoch(s);
    return Number.isFinite(at) && new Date(at).toISOString().slice(0, 19) === s.slice(0, 19).replace(' ', 'T');
  }, 'is not a date and time that exists');
const scopeShape = {
  endpoint: z.string().min(1),
  granularity,
  window: windowStart,
  model: z.string().max(300).default('*'),
  slice_key: columnNameSchema.optional(),
  slice_value: z.string().max(500).optional(),
};

type Scope = z.output<z.ZodObject<typeof scopeShape>>;


/** The endpoint, known, and the slice asked for, one the endpoint is monitored by. */
async function checkScope(source: UiSource, p: { endpoint: string; slice_key?: string | undefined }): Promise<void> {
  const { config } = await source.config();
  knownEndpoint(config, p.endpoint);
  const slices = monitoringSettings(config, p.endpoint).slices;
  if (p.slice_key !== undefined && !slices.includes(p.slice_key)) {
    throw new BadParameter(`slice_key: ${p.endpoint} is sliced by ${slices.length > 0 ? slices.join(', ') : 'no column'} (monitoring.slices), not ${p.slice_key}`);
  }
}

/** The rows of a metrics table for one model and slice, every window. */
function scopeKeys(p: { granularity: Granularity; model: string; slice_key?: string | undefined; slice_value?: string | undefined }): string {
  return [
    `granularity = ${literal(p.granularity)}`,
    `model_id = ${literal(p.model)}`,
    p.slice_key ? `slice_key = ${literal(p.slice_key)} AND slice_value = ${literal(p.slice_value ?? '')}` : 'slice_key IS NULL',
  ].join(' AND ');
}

/** The rows of a metrics table for one scope and window. */
function keyConditions(p: Parameters<typeof scopeKeys>[0] & { window: string }): string {
  return `${scopeKeys(p)} AND window_start = ${timestampLiteral(new Date(epoch(p.window)))}`;
}

/** A row with its JSON text columns parsed. */
const parsed = (row: Record<string, unknown>, columns: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, columns.includes(k) && typeof v === 'string' ? (JSON.parse(v) as unknown) : v]));

/** The windows, models, slices and columns of an endpoint's metrics, with its series and alerts. */
export async function monitoringChoices(source: UiSource, url: URL): Promise<unknown> {
  const p = paramsOf(url, z.strictObject({ ...scopeShape, window: windowStart.optional(), column: columnNameSchema.optional() }));
  await checkScope(source, p);
  return withEngine(source, async (engine, tables) => {
    const profile = tableName(p.endpoint, 'profile_metrics');
    // The endpoint's state beside its series: table health, last refresh, the capture path.
    const [series, health, refreshed, capture] = await Promise.all([dashboardSeries(engine, tables, p.endpoint, p.granularity), readHealth(source.store, p.endpoint), lastRefresh(source.store, p.endpoint), source.captureHealth?.(p.endpoint)]);
    const state = { health: health ?? null, last_refresh: refreshed, capture: capture ?? null };
    if (!tables.includes(profile)) return { ...state, windows: [], models: [], slices: [], columns: [], series, view: null };
    const g = `granularity = ${literal(p.granularity)}`;
    const rows = (
      await engine.query(
        [
          `SELECT 'window' AS kind, CAST(window_start AS VARCHAR) AS a, CAST(NULL AS VARCHAR) AS b FROM ${profile} WHERE ${g} GROUP BY 2`,
          `SELECT 'model', model_id, CAST(NULL AS VARCHAR) FROM ${profile} WHERE ${g} GROUP BY 2`,
          `SELECT 'slice', slice_key, slice_value FROM ${profile} WHERE ${g} AND slice_key IS NOT NULL GROUP BY 2, 3`,
          `SELECT 'column', column_name, data_type FROM ${profile} WHERE ${g} AND column_name <> ':table' GROUP BY 2, 3`,
        ].join('\nUNION ALL\n'),
      )
    ).rows;
    const of = (kind: string) => rows.filter((r) => r.kind === kind);
    const choices = {
      ...state,
      windows: of('window')
        .map((r) => String(r.a))
        .sort()
        .reverse(),
      models: of('model')
        .map((r) => String(r.a))
        .sort(),
      slices: of('slice')
        .map((r) => ({ key: String(r.a), value: String(r.b) }))
        .sort((a, b) => (a.key + a.value).localeCompare(b.key + b.value)),
      columns: [...new Map(of('column').map((r) => [String(r.a), { name: String(r.a), data_type: String(r.b) }])).values()].sort((a, b) => a.name.localeCompare(b.name)),
      series,
    };
    // The view asked for, or the latest window and the first feature: in the same read, so the page needs one call.
    const window = p.window !== undefined && choices.windows.includes(p.window) ? p.window : choices.windows[0];
    const names = choices.columns.map((c) => c.name);
    const column = p.column !== undefined && names.includes(p.column) ? p.column : (names.find((c) => c !== 'prediction' && c !== 'label') ?? names[0]);
    if (window === undefined) return { ...choices, view: null };
    const scope = { ...p, window };
    return { ...choices, view: { window, column: column ?? null, window_view: await windowOf(engine, tables, scope), column_view: column ? await columnOf(source, engine, tables, { ...scope, column }) : null } };
  });
}

/** One window of a scope: its `:table` row (quality, confusion matrix), its columns' profiles, their drift and the window's alerts. */
export async function windowView(source: UiSource, url: URL): Promise<unknown> {
  const p = paramsOf(url, z.strictObject(scopeShape));
  await checkScope(source, p);
  return withEngine(source, (engine, tables) => windowOf(engine, tables, p));
}

async function windowOf(engine: QueryEngine, tables: readonly string[], p: Scope): Promise<unknown> {
  const profile = tableName(p.endpoint, 'profile_metrics');
  const drift = tableName(p.endpoint, 'drift_metrics');
  const alerts = tableName(p.endpoint, 'alerts');
  if (!tables.includes(profile)) throw new NotFound(`${p.endpoint} has no metrics yet: score, then refresh.`);
  const keys = keyConditions(p);
  const profiles = (await engine.query(windowProfileSql(profile, keys))).rows.map((r) => parsed(r, PROFILE_ROWS));
  const table = profiles.find((r) => r.column_name === ':table') ?? null;
  const driftRows = tables.includes(drift) ? (await engine.query(windowDriftSql(drift, keys))).rows.map((r) => parsed(r, DRIFT_ROWS)) : [];
  const windowAlerts = tables.includes(alerts)
    ? (await engine.query(`SELECT kind, message FROM ${alerts} WHERE granularity = ${literal(p.granularity)} AND window_start = ${timestampLiteral(new Date(epoch(p.window)))} ORDER BY kind`)).rows
    : [];
  return { table, columns: profiles.filter((r) => r.column_name !== ':table'), drift: driftRows, alerts: windowAlerts };
}

/** A histogram or bar chart of the current window, the one before it and the baseline, as shares of each side. */
export interface Distribution {
  readonly kind: 'numeric' | 'categorical';
  /** Bin ranges (`[lo, hi)`) or categories. */
  readonly labels: readonly string[];
  readonly current: readonly number[];
  readonly previous: readonly number[];
  /** Null without a configured baseline, or when it has no such column. */
  readonly baseline: readonly number[] | null;
  /** Values on each side (nulls and NaN left out). */
  readonly counts: { readonly current: number; readonly previous: number; readonly baseline: number | null };
}

const shares = (counts: readonly number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
};
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The baseline's values of a column, or null when none is configured or it lacks the column. */
async function baselineValues(source: UiSource, engine: QueryEngine, endpoint: string, column: string): Promise<unknown[] | null> {
  const { config } = await source.config();
  const baseline = monitoringSettings(config, endpoint).baseline;
  if (!baseline) return null;
  if ('file' in baseline) {
    const sample = await readSampleFile(isAbsolute(baseline.file) ? baseline.file : join(source.projectRoot, baseline.file));
    return sample.find((c) => c.name === column || featureColumnName(c.name) === column)?.values ?? null;
  }
  const where = 'table' in baseline ? '' : `WHERE "timestamp" >= ${timestampLiteral(new Date(baseline.from))} AND "timestamp" < ${timestampLiteral(new Date(baseline.to))}`;
  const from = 'table' in baseline ? baseline.table : tableName(endpoint, 'unpacked');
  try {
    const result = await engine.query(`SELECT "${column}" AS v FROM ${from} ${where} LIMIT ${BASELINE_ROWS}`);
    return result.rows.map((r) => r.v);
  } catch {
    // A baseline table without this column has nothing to show for it.
    return null;
  }
}

/** Distribution of a numeric column: equal bins over the range of all three sides. */
async function numericDistribution(engine: QueryEngine, scope: MonitoringScope, w: { previous: Date; current: Date; end: Date }, column: string, base: unknown[] | null): Promise<Distribution> {
  const baseValues = (base ?? []).filter((v) => v !== null && v !== undefined && v !== '').map(Number).filter(Number.isFinite);
  const range = (await engine.query(numericRangeSql(scope, w.previous, w.current, w.end, column))).rows[0] ?? {};
  let lo = range.lo === null || range.lo === undefined ? Infinity : Number(range.lo);
  let hi = range.hi === null || range.hi === undefined ? -Infinity : Number(range.hi);
  for (const v of baseValues) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) [lo, hi] = [0, 0];
  const bins = binWidth(lo, hi, HISTOGRAM_BINS) !== null ? HISTOGRAM_BINS : 1;
  const width = binWidth(lo, hi, bins) ?? 0;
  const current = new Array<number>(bins).fill(0);
  const previous = new Array<number>(bins).fill(0);
  if (range.lo !== null && range.lo !== undefined) {
    for (const r of (await engine.query(numericBinsSql(scope, w.previous, w.current, w.end, column, lo, hi, bins))).rows) {
      const side = r.side === 'current' ? current : previous;
      side[Number(r.bin)] = (side[Number(r.bin)] ?? 0) + Number(r.n);
    }
  }
  const baseline = base === null ? null : new Array<number>(bins).fill(0);
  if (baseline) for (const v of baseValues) baseline[width > 0 ? Math.min(bins - 1, Math.max(0, Math.floor(v / width - lo / width))) : 0]! += 1;
  const fmt = (x: number) => Number(x.toPrecision(4)).toString();
  return {
    kind: 'numeric',
    labels: Array.from({ length: bins }, (_, i) => `${fmt(lo + i * width)} – ${fmt(i === bins - 1 ? hi : lo + (i + 1) * width)}`),
    current: shares(current),
    previous: shares(previous),
    baseline: baseline ? shares(baseline) : null,
    counts: { current: sum(current), previous: sum(previous), baseline: baseline ? sum(baseline) : null },
  };
}

/** Distribution of a categorical column: the most frequent categories of the window, the rest as "(other)". */
async function categoricalDistribution(engine: QueryEngine, scope: MonitoringScope, w: { previous: Date; current: Date; end: Date }, column: string, base: unknown[] | null): Promise<Distribution> {
  const sides = { current: new Map<string, number>(), previous: new Map<string, number>(), baseline: new Map<string, number>() };
  for (const r of (await engine.query(categoryCountsSql(scope, w.previous, w.current, w.end, column))).rows) sides[r.side === 'current' ? 'current' : 'previous'].set(String(r.value), Number(r.n));
  for (const v of base ?? []) if (v !== null && v !== undefined && v !== '') sides.baseline.set(String(v), (sides.baseline.get(String(v)) ?? 0) + 1);
  const all = new Map<string, number>();
  for (const m of Object.values(sides)) for (const [k, n] of m) all.set(k, (all.get(k) ?? 0) + n);
  const top = [...all.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, TOP_CATEGORIES).map(([k]) => k);
  const labels = all.size > top.length ? [...top, '(other)'] : top;
  const countsOf = (m: Map<string, number>) => {
    const kept = top.map((k) => m.get(k) ?? 0);
    return all.size > top.length ? [...kept, sum([...m.values()]) - sum(kept)] : kept;
  };
  const [current, previous, baseline] = [countsOf(sides.current), countsOf(sides.previous), base === null ? null : countsOf(sides.baseline)];
  return {
    kind: 'categorical',
    labels,
    current: shares(current),
    previous: shares(previous),
    baseline: baseline ? shares(baseline) : null,
    counts: { current: sum(current), previous: sum(previous), baseline: baseline ? sum(baseline) : null },
  };
}

/** One column of a scope: its distribution in the window against the previous one and the baseline, and its drift over every window. */
export async function columnView(source: UiSource, url: URL): Promise<unknown> {
  const p = paramsOf(url, z.strictObject({ ...scopeShape, column: columnNameSchema }));
  await checkScope(source, p);
  return withEngine(source, (engine, tables) => columnOf(source, engine, tables, p));
}

async function columnOf(source: UiSource, engine: QueryEngine, tables: readonly string[], p: Scope & { column: string }): Promise<unknown> {
  const profile = tableName(p.endpoint, 'profile_metrics');
  const unpacked = tableName(p.endpoint, 'unpacked');
  if (!tables.includes(profile) || !tables.includes(unpacked)) throw new NotFound(`${p.endpoint} has no metrics yet: score, then refresh.`);
  // The column's type, and the slice column's when it is profiled (to compare its values as the refresh named them).
  const types = new Map(
    (await engine.query(`SELECT column_name, max(data_type) AS data_type FROM ${profile} WHERE column_name IN (${[p.column, p.slice_key ?? p.column].map(literal).join(', ')}) AND granularity = ${literal(p.granularity)} GROUP BY 1`)).rows.map((r) => [
      String(r.column_name),
      String(r.data_type),
    ]),
  );
  const type = types.get(p.column);
  if (type === undefined) throw new BadParameter(`column: ${p.endpoint}'s metrics have no column ${p.column}.`);
  const start = epoch(p.window);
  const length = windowLength(p.granularity);
  const w = { previous: new Date(start - length), current: new Date(start), end: new Date(start + length) };
  const scope: MonitoringScope = { endpoint: p.endpoint, model_id: p.model, slice_key: p.slice_key ?? null, slice_value: p.slice_key ? (p.slice_value ?? '') : null, slice_type: p.slice_key ? (types.get(p.slice_key) ?? null) : null };
  const base = await baselineValues(source, engine, p.endpoint, p.column);
  // As the drift statistics do: DOUBLE columns are numeric, every other type categorical.
  const distribution = type === 'DOUBLE' ? await numericDistribution(engine, scope, w, p.column, base) : await categoricalDistribution(engine, scope, w, p.column, base);
  const drift = tableName(p.endpoint, 'drift_metrics');
  const history = tables.includes(drift)
    ? (
        await engine.query(
          `SELECT CAST(window_start AS VARCHAR) AS window_start, drift_type, js_distance, population_stability_index, pvalue_adjusted, verdict FROM ${drift}
           WHERE column_name = ${literal(p.column)} AND ${scopeKeys(p)} ORDER BY window_start, drift_type`,
        )
      ).rows
    : [];
  return { column: p.column, data_type: type, window: { start: p.window, previous_start: w.previous.toISOString(), end: w.end.toISOString() }, distribution, drift: history };
}
