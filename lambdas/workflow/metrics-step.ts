import { isAbsolute, join } from 'node:path';
import { type Granularity, monitoringSettings } from '../core/config/index.js';
import { log } from '../core/log.js';
import { type MetricsKind, type MetricsTables, metricsStatements } from '../core/metrics-sql.js';
import { LLM_COLUMN_METRICS, MetricDimension, RefreshMetric } from '../core/metric-names.js';
import {
  ALERT_KINDS,
  ALL_MODELS,
  type AlertRow,
  type CarriedWindow,
  type DriftRow,
  type MetricsOutput,
  PUBLISHED_PROFILE_COLUMNS,
  type ProfileRow,
  TABLE_COLUMN,
  type TrafficFigures,
  computeMetrics,
  quantile,
  trafficKey,
  windowLength,
  windowStart,
} from '../core/monitoring/index.js';
import { tableName } from '../core/names.js';
import { type MetricDatum, type QueryEngine, QueryError } from '../core/ports.js';
import { labelRejectStatements, literal } from '../core/refresh-sql.js';
import { SampleFileError, readSampleFile } from '../core/sample-file.js';
import { type ColumnType, type FeatureColumn, featureColumnName } from '../core/unpacked-schema.js';
import type { EndpointRun } from '../core/refresh-steps.js';
import { checkLabels } from './label-checks.js';
import { countsBetween, rowsBetween, selectPredictions } from './metrics-counts.js';
import { metricsMaintenance } from './maintenance.js';
import { quarantinedByDate } from './quarantine.js';
import { GzipJsonLines, type RefreshDeps, readJson, runPrefix, tableRef } from './steps.js';

/**
 * The metrics step of the refresh workflow (between an endpoint's commit and its finish):
 * computes the profile, drift and alerts of every window the run touched (new predictions,
 * or labels that arrived late), stages them, publishes them as metrics, and returns the
 * statements that replace those windows in the metrics tables.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface CommitRecord {
  /** `hours` is missing from commits of earlier versions: their whole days are recomputed. */
  readonly summary: { readonly dates: readonly string[]; readonly hours?: readonly number[] };
  readonly columns: FeatureColumn[] | null;
  readonly prediction_type: ColumnType | null;
  /** Labels arrived since the last run. */
  readonly labels_checked?: boolean;
  /** The day whose upkeep this run does, if due. */
  readonly maintenance?: string | null;
}

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The windows of each granularity that overlap the hours touched (epoch ms of their starts). */
export function windowsOf(granularities: readonly Granularity[], hours: readonly number[]): Map<Granularity, number[]> {
  const out = new Map<Granularity, number[]>();
  for (const g of granularities) {
    const starts = new Set<number>();
    const length = windowLength(g);
    for (const hour of hours) {
      for (let t = windowStart(g, hour); t < hour + HOUR; t += length) starts.add(t);
    }
    out.set(g, [...starts].sort((a, b) => a - b));
  }
  return out;
}

/** Requests, server errors and model latency per window, from the payload table (deduplicated by request id). */
async function trafficOf(engine: QueryEngine, deps: RefreshDeps, endpoint: string, windows: ReadonlyMap<Granularity, readonly number[]>, from: string, to: string): Promise<Map<string, TrafficFigures>> {
  const table = tableRef(deps, tableName(endpoint, 'payload'), '').sql;
  const quarantine = await quarantinedByDate(deps.store, tableName(endpoint, 'payload'), endpoint, from, to);
  // The payload table is at-least-once: a request delivered twice counts once.
  const result = await engine.queryColumns(
    `SELECT CAST(timestamp_ms AS DOUBLE) AS t, CAST(status_code AS DOUBLE) AS status, CAST(execution_time_ms AS DOUBLE) AS latency, CAST(sampling_fraction AS DOUBLE) AS fraction, model
     FROM (SELECT timestamp_ms, status_code, execution_time_ms, sampling_fraction,
             CASE WHEN element_at(request_metadata, 'model_name') <> '' THEN element_at(request_metadata, 'model_name') || '/' || element_at(request_metadata, 'model_version') END AS model,
             row_number() OVER (PARTITION BY request_id ORDER BY timestamp_ms) AS rn
           FROM ${table} WHERE endpoint = ${literal(endpoint)} AND "date" BETWEEN ${literal(from)} AND ${literal(to)}) WHERE rn = 1`,
  );
  const [times = [], statuses = [], latencies = [], fractions = [], models = []] = result.data;
  const out = new Map<string, TrafficFigures>();
  type Acc = { weight: number; count: number; errors: number; latencies: number[] };
  for (const [g, starts] of windows) {
    const wanted = new Set(starts);
    // Of all models, and of each model the request was routed to (its served entity's version).
    const groups = new Map<string, Acc & { start: number }>();
    const add = (key: string, start: number, i: number) => {
      const acc = groups.get(key) ?? { start, weight: 0, count: 0, errors: 0, latencies: [] };
      groups.set(key, acc);
      // A request captured at fraction f stands for 1/f requests.
      acc.weight += 1 / Number(fractions[i] ?? 1);
      acc.count += 1;
      if (Number(statuses[i]) >= 500) acc.errors += 1;
      const latency = latencies[i];
      if (latency !== null && latency !== undefined) acc.latencies.push(Number(latency));
    };
    for (let i = 0; i < times.length; i++) {
      const s = windowStart(g, Number(times[i]));
      // The window before each one too: a volume drop is judged against it.
      if (!wanted.has(s) && !wanted.has(s + windowLength(g))) continue;
      add(trafficKey(g, s), s, i);
      const model = models[i];
      if (typeof model === 'string') add(trafficKey(g, s, model), s, i);
    }
    for (const [key, acc] of groups) {
      const sorted = Float64Array.from(acc.latencies).sort();
      const at = (q: number) => (sorted.length ? quantile(sorted, q) : null);
      const partial_reason = partialReason(quarantine, acc.start, acc.start + windowLength(g));
      out.set(key, { request_count: Math.round(acc.weight), error_rate: acc.errors / acc.count, latency_p50_ms: at(0.5), latency_p99_ms: at(0.99), partial_reason });
    }
  }
  return out;
}

/** The statements that list an endpoint's labels kept out of its unpacked table. */
function labelRejectsOf(deps: RefreshDeps, run: EndpointRun, predictionType: ColumnType): { sql: string }[] {
  const rejects = tableName(run.endpoint, 'label_rejects');
  return labelRejectStatements(deps.dialect, {
    labels: tableRef(deps, tableName(run.endpoint, 'labels'), ''),
    unpacked: tableRef(deps, tableName(run.endpoint, 'unpacked'), ''),
    rejects: tableRef(deps, rejects, deps.store.location(`${rejects}/`)),
    predictionType,
    runId: run.run_id,
    checkedAt: new Date(run.started_at),
  }).map((sql) => ({ sql }));
}

/** The columns each existing metrics table has (a table not there yet is left out). */
async function existingColumns(engine: QueryEngine, deps: RefreshDeps, names: Record<MetricsKind, string>): Promise<Partial<Record<MetricsKind, Set<string>>>> {
  const schema = deps.dialect === 'athena' && deps.database ? ` AND table_schema = ${literal(deps.database)}` : '';
  const rows = await engine.query(`SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN (${Object.values(names).map(literal).join(', ')})${schema}`);
  const out: Partial<Record<MetricsKind, Set<string>>> = {};
  for (const [kind, name] of Object.entries(names) as [MetricsKind, string][]) {
    const columns = rows.rows.filter((r) => r.table_name === name).map((r) => String(r.column_name));
    if (columns.length > 0) out[kind] = new Set(columns);
  }
  return out;
}

/** Why a window's figures may be short: its days' payload files in quarantine. */
function partialReason(quarantine: ReadonlyMap<string, number>, start: number, end: number): string | null {
  const parts: string[] = [];
  for (let d = Date.parse(`${dayOf(start)}T00:00:00Z`); d < end; d += 86_400_000) {
    const n = quarantine.get(dayOf(d));
    if (n) parts.push(`${n} payload file${n === 1 ? '' : 's'} of ${dayOf(d)} in quarantine`);
  }
  return parts.length > 0 ? parts.join(', ') : null;
}

/**
 * The windows to compute, cut into batches that each read a bounded span of rows: the
 * windows of one granularity starting on one day (one window for longer ones), with the
 * window before the first for CONSECUTIVE drift.
 */
function batchesOf(windows: ReadonlyMap<Granularity, readonly number[]>): { granularity: Granularity; starts: number[]; from: number; to: number }[] {
  const out: { granularity: Granularity; starts: number[]; from: number; to: number }[] = [];
  for (const [g, starts] of windows) {
    const length = windowLength(g);
    const byDay = new Map<number, number[]>();
    for (const s of starts) {
      const key = length >= DAY ? s : Math.floor(s / DAY) * DAY;
      byDay.set(key, [...(byDay.get(key) ?? []), s]);
    }
    for (const list of byDay.values()) out.push({ granularity: g, starts: list, from: Math.min(...list) - length, to: Math.max(...list) + length });
  }
  return out;
}

/** The baseline's values per unpacked column name, or null when none is configured. */
async function baselineOf(deps: RefreshDeps, engine: QueryEngine, endpoint: string, columns: readonly FeatureColumn[], predictionType: ColumnType): Promise<Map<string, unknown[]> | null> {
  const baseline = monitoringSettings(deps.config, endpoint).baseline;
  if (!baseline) return null;
  if ('file' in baseline) {
    const path = isAbsolute(baseline.file) ? baseline.file : join(deps.projectRoot ?? process.cwd(), baseline.file);
    const sample = await readSampleFile(path);
    // Files name features as callers send them; columns are their cleaned names. A
    // `prediction` column is the model's answers to the baseline.
    const columnOf = (name: string) => (name === 'prediction' ? name : (columns.find((f) => f.feature === name)?.column ?? featureColumnName(name)));
    return new Map(sample.map((c) => [columnOf(c.name), c.values]));
  }
  const result =
    'table' in baseline
      ? await engine.query(`SELECT * FROM ${tableRef(deps, baseline.table, '').sql}`)
      : await engine.query(selectPredictions(tableRef(deps, tableName(endpoint, 'unpacked'), '').sql, columns, predictionType, rowsBetween(Date.parse(baseline.from), Date.parse(baseline.to))));
  const out = new Map<string, unknown[]>();
  for (const c of result.columns) out.set(c, result.rows.map((r) => r[c]));
  return out;
}

/**
 * Datapoints for alarms and dashboards: the all-models, unsliced rows of each window computed.
 * The profile columns published, and as what, are declared with the columns.
 */
export function metricData(endpoint: string, output: MetricsOutput, runAt: Date): MetricDatum[] {
  const data: MetricDatum[] = [];
  const at = (row: { window_start: string }) => new Date(`${row.window_start.replace(' ', 'T')}Z`);
  const dims = (row: { granularity: string }, extra: Record<string, string> = {}) => ({ [MetricDimension.endpoint]: endpoint, [MetricDimension.granularity]: row.granularity, ...extra });
  const whole = (r: { model_id: string; slice_key: string | null }) => r.model_id === ALL_MODELS && r.slice_key === null;
  for (const t of output.profile.filter((p: ProfileRow) => whole(p) && p.column_name === TABLE_COLUMN)) {
    for (const { column, metric } of PUBLISHED_PROFILE_COLUMNS) {
      const value = metric.value ? metric.value(t[column]) : t[column];
      if (typeof value === 'number' && Number.isFinite(value)) data.push({ name: metric.name, value, timestamp: at(t), dimensions: dims(t), unit: metric.unit });
    }
  }
  // An LLM endpoint's text metrics: the mean of each column's row.
  for (const r of output.profile.filter((p: ProfileRow) => whole(p) && Object.hasOwn(LLM_COLUMN_METRICS, p.column_name))) {
    const metric = LLM_COLUMN_METRICS[r.column_name];
    if (metric && typeof r.avg === 'number' && Number.isFinite(r.avg)) data.push({ name: metric.name, value: r.avg, timestamp: at(r), dimensions: dims(r), unit: metric.unit });
  }
  const drifted = new Map<string, { row: DriftRow; n: number }>();
  for (const d of output.drift.filter(whole)) {
    data.push({ name: RefreshMetric.jsDistance, value: d.js_distance ?? 0, timestamp: at(d), dimensions: dims(d, { [MetricDimension.driftType]: d.drift_type, [MetricDimension.column]: d.column_name }), unit: 'None' });
    const key = `${d.granularity}|${d.window_start}|${d.drift_type}`;
    const acc = drifted.get(key) ?? { row: d, n: 0 };
    if (d.verdict === 'DRIFT') acc.n += 1;
    drifted.set(key, acc);
  }
  // Alerts are stamped at the run, not the window: an alarm sees them whatever window they judge.
  const endpointOnly = { [MetricDimension.endpoint]: endpoint };
  data.push({ name: RefreshMetric.alerts, value: output.alerts.length, timestamp: runAt, dimensions: endpointOnly, unit: 'Count' });
  for (const kind of ALERT_KINDS) data.push({ name: RefreshMetric.alerts, value: output.alerts.filter((a) => a.kind === kind).length, timestamp: runAt, dimensions: { ...endpointOnly, [MetricDimension.kind]: kind }, unit: 'Count' });
  for (const { row, n } of drifted.values()) data.push({ name: RefreshMetric.driftedColumns, value: n, timestamp: at(row), dimensions: dims(row, { [MetricDimension.driftType]: row.drift_type }), unit: 'Count' });
  return data;
}

/** Step: computes and stages an endpoint's metrics; returns the statements that store them. */
export async function computeEndpointMetrics(
  deps: RefreshDeps,
  run: EndpointRun,
): Promise<{ run_id: string; endpoint: string; statements: { sql: string }[]; alerts: number; windows: number; labels_refused?: number; labels_unmatched?: number }> {
  const none = { run_id: run.run_id, endpoint: run.endpoint, statements: [], alerts: 0, windows: 0 };
  const settings = monitoringSettings(deps.config, run.endpoint);
  const prefix = runPrefix(run.run_id, run.endpoint);
  const commit = await readJson<CommitRecord>(deps.store, `${prefix}commit.json`);
  if (!commit?.columns || !commit.prediction_type) return none;
  const engine = deps.engine;
  if (!engine) throw new Error('the metrics step needs a query engine');
  // Labels that cannot be joined are counted whenever labels arrived, monitored or not.
  const labels = commit.labels_checked ? await checkLabels(deps, engine, run.endpoint, commit.prediction_type) : undefined;
  const labelCounts = labels ? { labels_refused: labels.refused, labels_unmatched: labels.unmatched } : {};
  // The labels kept out, listed with why in <endpoint>_label_rejects, whenever labels arrived.
  const rejects = labels ? labelRejectsOf(deps, run, commit.prediction_type) : [];
  const unchanged = { ...none, ...labelCounts, statements: rejects };
  if (!settings.enabled) return unchanged;
  const unpacked = tableRef(deps, tableName(run.endpoint, 'unpacked'), '').sql;
  const recompute = tableRef(deps, tableName(run.endpoint, 'recompute_windows'), '').sql;
  // Hours with new predictions, and hours whose labels changed in this run.
  const relabelled = await engine.query(`SELECT DISTINCT to_unixtime(window_start) * 1000 AS h FROM ${recompute} WHERE run_id = ${literal(run.run_id)}`);
  const wholeDays = (commit.summary.hours ? [] : commit.summary.dates).flatMap((d) => Array.from({ length: 24 }, (_, i) => Date.parse(`${d}T00:00:00Z`) + i * HOUR));
  const hours = [...new Set([...(commit.summary.hours ?? []), ...wholeDays, ...relabelled.rows.map((r) => Number(r.h))])].sort((a, b) => a - b);
  if (hours.length === 0) return unchanged;
  const windows = windowsOf(settings.granularities, hours);
  const from = dayOf(Math.min(...[...windows.entries()].flatMap(([g, st]) => st.map((x) => x - windowLength(g)))));
  const to = dayOf(Math.max(...[...windows.entries()].flatMap(([g, st]) => st.map((x) => x + windowLength(g)))) - 1);
  const now = deps.now?.() ?? new Date();
  // A baseline that cannot be read costs its BASELINE rows, not the run: unpacking, labels
  // and the other metrics go on, and the log says why.
  const baseline = await baselineOf(deps, engine, run.endpoint, commit.columns, commit.prediction_type).catch((error: unknown) => {
    if (!(error instanceof SampleFileError || error instanceof QueryError)) throw error;
    log('error', `baseline of ${run.endpoint} unreadable; BASELINE drift skipped: ${error.message}`, { endpoint: run.endpoint });
    return null;
  });
  const traffic = await trafficOf(engine, deps, run.endpoint, windows, from, to);
  const output: { profile: ProfileRow[]; drift: DriftRow[]; alerts: AlertRow[] } = { profile: [], drift: [], alerts: [] };
  const models = (await engine.query(`SELECT DISTINCT model_id FROM ${unpacked} WHERE "date" BETWEEN DATE ${literal(from)} AND DATE ${literal(to)}`)).rows.map((r) => String(r.model_id)).sort();
  // One batch of rows in memory at a time: a day of windows, and the window before them
  // unless the previous batch computed it (its figures are carried over).
  const carried = new Map<Granularity, CarriedWindow>();
  for (const batch of batchesOf(windows)) {
    const length = windowLength(batch.granularity);
    const carry = carried.get(batch.granularity);
    const first = Math.min(...batch.starts);
    const from = carry?.start === first - length ? first : batch.from;
    const counts = await countsBetween(engine, { table: unpacked, columns: commit.columns, predictionType: commit.prediction_type, granularities: settings.granularities, slices: settings.slices, models }, from, batch.to);
    const part = computeMetrics({
      settings,
      columns: commit.columns.map((c) => ({ column: c.column, type: c.type })),
      predictionType: commit.prediction_type,
      counts,
      windows: new Map([[batch.granularity, batch.starts]]),
      baseline,
      traffic,
      now: now.getTime(),
      carried: carry,
    });
    output.profile.push(...part.profile);
    output.drift.push(...part.drift);
    output.alerts.push(...part.alerts);
    if (part.last) carried.set(batch.granularity, part.last);
    else carried.delete(batch.granularity);
  }
  for (const a of output.alerts) log('warn', `ALERT ${run.endpoint}: ${a.message}`, { endpoint: run.endpoint, kind: a.kind, metric: a.metric, window_start: a.window_start, granularity: a.granularity, value: a.value, threshold: a.threshold });
  await deps.publisher?.publish(metricData(run.endpoint, output, now));
  const staged = async (kind: 'profile' | 'drift' | 'alerts', rows: readonly (ProfileRow | DriftRow | AlertRow)[]) => {
    const lines = new GzipJsonLines();
    await lines.write(rows);
    await deps.store.put(`${prefix}metrics/${kind}/rows.jsonl.gz`, await lines.end());
  };
  await staged('profile', output.profile);
  await staged('drift', output.drift);
  await staged('alerts', output.alerts);
  const table = (kind: 'profile_metrics' | 'drift_metrics' | 'alerts') => {
    const name = tableName(run.endpoint, kind);
    return tableRef(deps, name, deps.store.location(`${name}/`));
  };
  const runTag = run.run_id.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  const kinds = { profile: 'profile_metrics', drift: 'drift_metrics', alerts: 'alerts' } as const;
  const stagedRef = (kind: keyof typeof kinds) => tableRef(deps, `${tableName(run.endpoint, kinds[kind])}_staged_${runTag}`, deps.store.location(`${prefix}metrics/${kind}/`));
  const tables: MetricsTables = {
    profile: table('profile_metrics'),
    drift: table('drift_metrics'),
    alerts: table('alerts'),
    staged: { profile: stagedRef('profile'), drift: stagedRef('drift'), alerts: stagedRef('alerts') },
  };
  const computedAt = run.started_at.replace('T', ' ').replace('Z', '');
  const existing = await existingColumns(engine, deps, { profile: tableName(run.endpoint, 'profile_metrics'), drift: tableName(run.endpoint, 'drift_metrics'), alerts: tableName(run.endpoint, 'alerts') });
  return {
    run_id: run.run_id,
    endpoint: run.endpoint,
    statements: [
      ...metricsStatements(deps.dialect, tables, run.run_id, computedAt, existing).map((sql) => ({ sql })),
      ...(commit.maintenance ? metricsMaintenance(deps, run.endpoint, commit.maintenance) : []).map((sql) => ({ sql })),
      ...rejects,
    ],
    alerts: output.alerts.length,
    windows: new Set(output.profile.map((p) => `${p.granularity}|${p.window_start}`)).size,
    ...labelCounts,
  };
}
