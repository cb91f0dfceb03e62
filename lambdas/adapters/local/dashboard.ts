import { readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { type Config, GRANULARITIES, type Granularity } from '../../core/config/index.js';
import { windowLength } from '../../core/monitoring/index.js';
import { tableName } from '../../core/names.js';
import { literal } from '../../core/refresh-sql.js';
import { capturedEndpoints } from '../../workflow/steps.js';
import { stateKey } from '../../workflow/paths.js';
import { CaptureMetric, SPILL_PREFIX } from '../../core/spill.js';
import type { CaptureCounters } from './capture-counters.js';
import { ERROR_OUTPUT_DIR } from './parquet-delivery.js';
import { FileObjectStore } from './file-object-store.js';
import { readHealth } from '../../core/health.js';
import { LocalQueryEngine } from './query-engine.js';

/**
 * The local dashboard (`/dashboard` on `npm start`): volume, latency, errors, drift and
 * quality over time for each endpoint, from its metrics tables, drawn with uPlot, with the
 * text metrics of endpoints that serve chat or completions; and the alerts the refreshes raised. The AWS counterpart is the CloudWatch dashboard per endpoint.
 */

/** An answer of a local route. */
export interface RouteResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** One endpoint's series, aligned on its windows (epoch seconds). */
export interface DashboardSeries {
  readonly endpoint: string;
  readonly granularity: Granularity;
  readonly windows: number[];
  readonly request_count: (number | null)[];
  readonly predictions: (number | null)[];
  readonly latency_p50_ms: (number | null)[];
  readonly latency_p99_ms: (number | null)[];
  readonly error_rate: (number | null)[];
  readonly drifted_baseline: (number | null)[];
  readonly drifted_consecutive: (number | null)[];
  readonly max_js_distance: (number | null)[];
  /** Accuracy for classification, R² for regression. */
  readonly quality_metric: string;
  readonly quality: (number | null)[];
  readonly label_coverage: (number | null)[];
  readonly alerts: { window_start: string; kind: string; message: string }[];
  /** For an endpoint that serves chat or completions: its text metrics, means per window; null otherwise. */
  readonly llm: LlmSeries | null;
}

/** The text metrics of an LLM endpoint, aligned on the windows. */
export interface LlmSeries {
  readonly prompt_tokens: (number | null)[];
  readonly completion_tokens: (number | null)[];
  readonly time_to_first_token_ms: (number | null)[];
  readonly output_tokens_per_second: (number | null)[];
  readonly empty_answer_rate: (number | null)[];
  readonly refusal_rate: (number | null)[];
  /** Share of answers cut at `max_tokens` (finish reason `length`). */
  readonly truncated_rate: (number | null)[];
}

/** The profile columns of the LLM series, each read as its mean. */
const LLM_MEANS = { prompt_tokens: 'prompt_tokens', completion_tokens: 'completion_tokens', time_to_first_token_ms: 'time_to_first_token_ms', output_tokens_per_second: 'output_tokens_per_second', empty_answer_rate: 'empty_answer', refusal_rate: 'refusal' } as const;

const require = createRequire(import.meta.url);
const ASSETS: Readonly<Record<string, [string, string]>> = {
  '/dashboard/uplot.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/dashboard/uplot.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/** When the endpoint's last successful refresh committed (its watermarks' file), or null. */
async function lastRefresh(store: FileObjectStore, endpoint: string): Promise<string | null> {
  const key = stateKey(endpoint);
  const found = (await store.list(key)).find((o) => o.key === key);
  return found ? found.lastModified.toISOString() : null;
}

/** Where an endpoint's captured records stand outside its tables: spilled, set aside, counted since start. */
export interface CaptureHealth {
  /** Records in the spill prefix, waiting for a redrive. */
  readonly spilled_waiting: number;
  /** Records under the error prefix (conversion failures, unreadable staging lines), kept with their reason. */
  readonly set_aside: number;
  /** Counters since the server started. */
  readonly since_start: { readonly retried: number; readonly spilled: number; readonly lost: number; readonly redriven: number };
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** Counts an endpoint's records outside its tables, from the data folder and the server's counters. */
export async function captureHealth(dataDir: string, endpoint: string, counters?: CaptureCounters): Promise<CaptureHealth> {
  const store = new FileObjectStore(dataDir);
  let spilled = 0;
  for (const o of await store.list(`${SPILL_PREFIX}${endpoint}/`)) spilled += lines(new TextDecoder().decode(await store.get(o.key))).length;
  let setAside = 0;
  const errors = join(dataDir, ERROR_OUTPUT_DIR);
  const files = await readdir(errors, { recursive: true }).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    for (const line of lines(await readFile(join(errors, f), 'utf8').catch(() => ''))) {
      try {
        const raw = JSON.parse(Buffer.from((JSON.parse(line) as { rawData: string }).rawData, 'base64').toString('utf8')) as { endpoint?: unknown };
        if (raw.endpoint === endpoint) setAside++;
      } catch {
        // an unreadable line belongs to no endpoint
      }
    }
  }
  const total = (name: string) => counters?.total(name, endpoint) ?? 0;
  return {
    spilled_waiting: spilled,
    set_aside: setAside,
    since_start: { retried: total(CaptureMetric.retried), spilled: total(CaptureMetric.spilled), lost: total(CaptureMetric.lost), redriven: total(CaptureMetric.redriven) },
  };
}

const json = (status: number, value: unknown): RouteResult => ({ status, contentType: 'application/json', body: JSON.stringify(value) });

const epochSeconds = (value: unknown) => Date.parse(`${String(value).replace(' ', 'T').slice(0, 23)}Z`) / 1000;

/** The series of one endpoint and granularity; empty before its first refresh with metrics. */
export async function dashboardSeries(dataDir: string, config: Config, endpoint: string, granularity: Granularity): Promise<DashboardSeries> {
  const engine = await LocalQueryEngine.open(dataDir, config);
  try {
    const profile = tableName(endpoint, 'profile_metrics');
    const drift = tableName(endpoint, 'drift_metrics');
    const alertsTable = tableName(endpoint, 'alerts');
    const g = literal(granularity);
    const tableRows = engine.tables.includes(profile)
      ? (
          await engine.query(
            `SELECT window_start, request_count, "count" AS predictions, latency_p50_ms, latency_p99_ms, error_rate, accuracy_score, r2_score, label_coverage
             FROM ${profile} WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND granularity = ${g} ORDER BY window_start`,
          )
        ).rows
      : [];
    const driftRows = engine.tables.includes(drift)
      ? (
          await engine.query(
            `SELECT window_start, drift_type, count_if(verdict = 'DRIFT') AS drifted, max(js_distance) AS js
             FROM ${drift} WHERE model_id = '*' AND slice_key IS NULL AND granularity = ${g} GROUP BY window_start, drift_type`,
          )
        ).rows
      : [];
    const alerts = engine.tables.includes(alertsTable)
      ? (await engine.query(`SELECT CAST(window_start AS VARCHAR) AS window_start, kind, message FROM ${alertsTable} WHERE granularity = ${g} ORDER BY window_start DESC LIMIT 50`)).rows
      : [];
    const windows = tableRows.map((r) => epochSeconds(r.window_start));
    const at = new Map(windows.map((w, i) => [w, i]));
    const column = <T>(pick: (r: Record<string, unknown>) => T) => tableRows.map(pick);
    const driftSeries = (type: string, pick: (r: Record<string, unknown>) => number | null) => {
      const out: (number | null)[] = windows.map(() => null);
      for (const r of driftRows.filter((d) => d.drift_type === type)) {
        const i = at.get(epochSeconds(r.window_start));
        if (i !== undefined) out[i] = pick(r);
      }
      return out;
    };
    const maxJs: (number | null)[] = windows.map(() => null);
    for (const r of driftRows) {
      const i = at.get(epochSeconds(r.window_start));
      if (i !== undefined && r.js !== null) maxJs[i] = Math.max(maxJs[i] ?? 0, Number(r.js));
    }
    const llm = engine.tables.includes(profile) ? await llmSeries(engine, profile, g, at) : null;
    const regression = tableRows.some((r) => r.r2_score !== null) && !tableRows.some((r) => r.accuracy_score !== null);
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      endpoint,
      granularity,
      windows,
      request_count: column((r) => num(r.request_count)),
      predictions: column((r) => num(r.predictions)),
      latency_p50_ms: column((r) => num(r.latency_p50_ms)),
      latency_p99_ms: column((r) => num(r.latency_p99_ms)),
      error_rate: column((r) => num(r.error_rate)),
      drifted_baseline: driftSeries('BASELINE', (r) => num(r.drifted)),
      drifted_consecutive: driftSeries('CONSECUTIVE', (r) => num(r.drifted)),
      max_js_distance: maxJs,
      quality_metric: regression ? 'r2_score' : 'accuracy_score',
      quality: column((r) => num(regression ? r.r2_score : r.accuracy_score)),
      label_coverage: column((r) => num(r.label_coverage)),
      alerts: alerts.map((a) => ({ window_start: String(a.window_start), kind: String(a.kind), message: String(a.message) })),
      llm,
    };
  } finally {
    engine.close();
  }
}

/** The LLM series of an endpoint whose unpacked rows have text metrics, or null. */
async function llmSeries(engine: LocalQueryEngine, profile: string, granularity: string, at: ReadonlyMap<number, number>): Promise<LlmSeries | null> {
  const rows = (
    await engine.query(
      `SELECT window_start, column_name, avg, "count", frequent_items FROM ${profile}
       WHERE column_name IN (${[...Object.values(LLM_MEANS), 'finish_reason'].map(literal).join(', ')}) AND model_id = '*' AND slice_key IS NULL AND granularity = ${granularity}`,
    )
  ).rows;
  if (!rows.some((r) => r.column_name === 'finish_reason' && Number(r.count) > 0)) return null;
  const empty = () => Array.from({ length: at.size }, (): number | null => null);
  const out = { ...Object.fromEntries(Object.keys(LLM_MEANS).map((k) => [k, empty()])), truncated_rate: empty() } as Record<keyof LlmSeries, (number | null)[]>;
  const key = Object.fromEntries(Object.entries(LLM_MEANS).map(([k, column]) => [column, k as keyof LlmSeries]));
  for (const r of rows) {
    const i = at.get(epochSeconds(r.window_start));
    if (i === undefined) continue;
    if (r.column_name === 'finish_reason') {
      const items = (r.frequent_items ?? []) as { item: string; count: unknown }[];
      const total = Number(r.count);
      out.truncated_rate[i] = total > 0 ? items.filter((f) => f.item === 'length').reduce((n, f) => n + Number(f.count), 0) / total : null;
    } else {
      const name = key[String(r.column_name)];
      if (name) out[name][i] = r.avg === null || r.avg === undefined ? null : Number(r.avg);
    }
  }
  return out;
}

/** Serves the dashboard's routes; undefined for any other path. */
export function dashboardRoutes(options: {
  readonly config: Config;
  readonly dataDir: string;
  /** The server's capture counters, shown as figures since start. */
  readonly counters?: CaptureCounters;
}): (method: string, url: URL) => Promise<RouteResult> | undefined {
  const endpoints = capturedEndpoints(options.config);
  return (method, url) => {
    if (!url.pathname.startsWith('/dashboard')) return undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The dashboard answers GET only.' }));
    const asset = ASSETS[url.pathname];
    if (asset) return Promise.resolve({ status: 200, contentType: asset[1], body: readFileSync(require.resolve(asset[0]), 'utf8') });
    if (url.pathname === '/dashboard' || url.pathname === '/dashboard/') return Promise.resolve({ status: 200, contentType: 'text/html; charset=utf-8', body: page(endpoints) });
    if (url.pathname === '/dashboard/api/series') {
      const endpoint = url.searchParams.get('endpoint') ?? '';
      const granularity = (url.searchParams.get('granularity') ?? '1 hour') as Granularity;
      if (!endpoints.includes(endpoint)) return Promise.resolve(json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Unknown endpoint '${endpoint.slice(0, 64)}'; known: ${endpoints.join(', ')}` }));
      if (!GRANULARITIES.includes(granularity)) return Promise.resolve(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `granularity must be one of ${GRANULARITIES.join(', ')}` }));
      const store = new FileObjectStore(options.dataDir);
      return Promise.all([dashboardSeries(options.dataDir, options.config, endpoint, granularity), captureHealth(options.dataDir, endpoint, options.counters), readHealth(store, endpoint), lastRefresh(store, endpoint)]).then(
        ([s, capture, tables, refreshed]) => json(200, { ...s, capture, tables: tables ?? null, last_refresh: refreshed }),
        (error: unknown) => json(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `The metrics tables cannot be read now: ${(error as Error).message}` }),
      );
    }
    return Promise.resolve(json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No dashboard page at ${url.pathname.slice(0, 64)}` }));
  };
}

function page(endpoints: readonly string[]): string {
  const options = endpoints.map((e) => `<option value="${e}">${e}</option>`).join('');
  const granularities = GRANULARITIES.map((g) => `<option${g === '1 hour' ? ' selected' : ''}>${g}</option>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>inference-tables dashboard</title>
<link rel="stylesheet" href="/dashboard/uplot.css">
<style>
 body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
 .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 1rem; }
 .chart h2 { font-size: 1rem; margin: 0 0 .25rem; }
 .empty { color: #777; }
 .warn { color: #b00; font-weight: 600; }
 [hidden] { display: none !important; }
 table { border-collapse: collapse; margin-top: 1rem; } td, th { border-bottom: 1px solid #ddd; padding: .25rem .5rem; text-align: left; }
</style></head>
<body>
<h1>inference-tables</h1>
<p><label>Endpoint <select id="endpoint">${options}</select></label>
 <label>Window <select id="granularity">${granularities}</select></label> <span id="status"></span></p>
<div class="charts">
 <div class="chart" id="chart-volume"><h2>Volume (requests, predictions)</h2></div>
 <div class="chart" id="chart-latency"><h2>Model latency (ms, p50 and p99)</h2></div>
 <div class="chart" id="chart-errors"><h2>Error rate (5xx)</h2></div>
 <div class="chart" id="chart-drift"><h2>Drift (drifted columns; largest JS distance)</h2></div>
 <div class="chart" id="chart-quality"><h2>Quality (and share labelled)</h2></div>
</div>
<div class="charts" id="llm" hidden>
 <div class="chart" id="chart-tokens"><h2>Tokens per call (mean prompt and completion)</h2></div>
 <div class="chart" id="chart-speed"><h2>Time to first token (ms, mean) and output tokens per second</h2></div>
 <div class="chart" id="chart-answers"><h2>Answers: empty, refused, cut at max_tokens (rates)</h2></div>
</div>
<p id="capture"></p>
<p id="tables"></p>
<h2>Alerts</h2>
<table id="alerts"><thead><tr><th>window</th><th>kind</th><th>message</th></tr></thead><tbody></tbody></table>
<script src="/dashboard/uplot.js"></script>
<script>
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
if (params.get('endpoint')) $('endpoint').value = params.get('endpoint');
if (params.get('granularity')) $('granularity').value = params.get('granularity');
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const SECONDS = ${JSON.stringify(Object.fromEntries(GRANULARITIES.map((g) => [g, windowLength(g) / 1000])))};
let pad = 3600;
function draw(id, windows, series) {
  const box = $(id);
  box.querySelectorAll('.uplot, .empty').forEach((n) => n.remove());
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0);
  box.dataset.points = String(points);
  if (points === 0) { const p = document.createElement('p'); p.className = 'empty'; p.textContent = 'No data yet: score, then refresh.'; box.appendChild(p); return; }
  // A window's width on each side, so one window is not drawn across years.
  const x = { time: true, auto: false, range: [Math.min(...windows) - pad, Math.max(...windows) + pad] };
  new uPlot({ width: 480, height: 220, scales: { x }, series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i], points: { show: true } }))], axes: [{}, {}] },
    [windows, ...series.map((s) => s.values)], box);
}
async function load() {
  const endpoint = $('endpoint').value, granularity = $('granularity').value;
  pad = SECONDS[granularity] || 3600;
  history.replaceState(null, '', '?endpoint=' + encodeURIComponent(endpoint) + '&granularity=' + encodeURIComponent(granularity));
  const res = await fetch('/dashboard/api/series?endpoint=' + encodeURIComponent(endpoint) + '&granularity=' + encodeURIComponent(granularity));
  const data = await res.json();
  if (!res.ok) { $('status').textContent = data.message; return; }
  $('status').textContent = data.windows.length + ' windows';
  draw('chart-volume', data.windows, [{ label: 'requests', values: data.request_count }, { label: 'predictions', values: data.predictions }]);
  draw('chart-latency', data.windows, [{ label: 'p50', values: data.latency_p50_ms }, { label: 'p99', values: data.latency_p99_ms }]);
  draw('chart-errors', data.windows, [{ label: 'error rate', values: data.error_rate }]);
  draw('chart-drift', data.windows, [{ label: 'drifted (baseline)', values: data.drifted_baseline }, { label: 'drifted (consecutive)', values: data.drifted_consecutive }, { label: 'max JS', values: data.max_js_distance }]);
  draw('chart-quality', data.windows, [{ label: data.quality_metric, values: data.quality }, { label: 'labelled', values: data.label_coverage }]);
  // Text metrics, for endpoints that serve chat or completions.
  $('llm').hidden = !data.llm;
  if (data.llm) {
    const l = data.llm;
    draw('chart-tokens', data.windows, [{ label: 'prompt', values: l.prompt_tokens }, { label: 'completion', values: l.completion_tokens }]);
    draw('chart-speed', data.windows, [{ label: 'TTFT ms', values: l.time_to_first_token_ms }, { label: 'tokens/s', values: l.output_tokens_per_second }]);
    draw('chart-answers', data.windows, [{ label: 'empty', values: l.empty_answer_rate }, { label: 'refused', values: l.refusal_rate }, { label: 'cut (length)', values: l.truncated_rate }]);
  }
  const c = data.capture;
  $('capture').textContent = 'Capture: ' + c.spilled_waiting + ' records spilled and waiting for redrive, ' + c.set_aside + ' set aside under errors/ with their reason; since start: '
    + c.since_start.spilled + ' spilled, ' + c.since_start.redriven + ' redriven, ' + c.since_start.lost + ' lost.';
  $('capture').className = c.spilled_waiting + c.since_start.lost > 0 ? 'warn' : '';
  // The health the last refresh or doctor recorded: quarantined files, failed refreshes, refused and unmatched labels.
  const t = data.tables;
  $('tables').textContent = (t ? 'Tables: ' + t.status + ' (checked ' + t.checked_at + '). ' + t.message : 'Tables: not checked yet; the first refresh checks them.')
    + ' Last successful refresh: ' + (data.last_refresh ?? 'none yet') + '.';
  $('tables').className = t && t.status !== 'ACTIVE' ? 'warn' : '';
  const body = $('alerts').querySelector('tbody');
  body.replaceChildren(...data.alerts.map((a) => { const tr = document.createElement('tr'); for (const v of [a.window_start, a.kind, a.message]) { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); } return tr; }));
  document.body.dataset.loaded = 'true';
}
$('endpoint').onchange = load; $('granularity').onchange = load;
load().catch((e) => { $('status').textContent = String(e); });
</script>
</body></html>
`;
}
