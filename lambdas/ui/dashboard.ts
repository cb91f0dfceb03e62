import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GRANULARITIES, type Granularity } from '../core/config/index.js';
import { readHealth } from '../core/health.js';
import { windowLength } from '../core/monitoring/index.js';
import type { ObjectStore, PageRoutes, RouteResult } from '../core/ports.js';
import { capturedEndpoints } from '../workflow/steps.js';
import { stateKey } from '../workflow/paths.js';
import { type DashboardSeries, dashboardSeries } from './series.js';
import { tableNames } from './tables.js';
import type { UiSource } from './source.js';

/**
 * The dashboard (`/dashboard`): volume, latency, errors, drift and quality over time for each
 * endpoint, from its metrics tables, drawn with uPlot, with the text metrics of endpoints that
 * serve chat or completions, and the alerts the refreshes raised. The AWS counterpart is the
 * CloudWatch dashboard per endpoint; the endpoint page (`/`) shows the same series.
 */

const require = createRequire(import.meta.url);
const ASSETS: Readonly<Record<string, [string, string]>> = {
  '/dashboard/uplot.js': ['uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
  '/dashboard/uplot.css': ['uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

/** When the endpoint's last successful refresh committed (its watermarks' file), or null. */
export async function lastRefresh(store: ObjectStore, endpoint: string): Promise<string | null> {
  const key = stateKey(endpoint);
  const found = (await store.list(key)).find((o) => o.key === key);
  return found ? found.lastModified.toISOString() : null;
}

const json = (status: number, value: unknown): RouteResult => ({ status, contentType: 'application/json', body: JSON.stringify(value) });

/** Serves the dashboard's routes; undefined for any other path. */
export function dashboardRoutes(source: UiSource): PageRoutes {
  return (method, url) => {
    if (!url.pathname.startsWith('/dashboard')) return undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The dashboard answers GET only.' }));
    const asset = ASSETS[url.pathname];
    if (asset) return Promise.resolve({ status: 200, contentType: asset[1], body: readFileSync(require.resolve(asset[0]), 'utf8') });
    return source.config().then(async ({ config }) => {
      const endpoints = capturedEndpoints(config);
      if (url.pathname === '/dashboard' || url.pathname === '/dashboard/') return { status: 200, contentType: 'text/html; charset=utf-8', body: page(endpoints) };
      if (url.pathname !== '/dashboard/api/series') return json(404, { error_code: 'ENDPOINT_NOT_FOUND', message: `No dashboard page at ${url.pathname.slice(0, 64)}` });
      const endpoint = url.searchParams.get('endpoint') ?? '';
      const granularity = (url.searchParams.get('granularity') ?? '1 hour') as Granularity;
      if (!endpoints.includes(endpoint)) return json(404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Unknown endpoint '${endpoint.slice(0, 64)}'; known: ${endpoints.join(', ')}` });
      if (!GRANULARITIES.includes(granularity)) return json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `granularity must be one of ${GRANULARITIES.join(', ')}` });
      try {
        const [s, capture, tables, refreshed] = await Promise.all([seriesOf(source, endpoint, granularity), source.captureHealth?.(endpoint), readHealth(source.store, endpoint), lastRefresh(source.store, endpoint)]);
        return json(200, { ...s, capture: capture ?? null, tables: tables ?? null, last_refresh: refreshed });
      } catch (error) {
        return json(503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `The metrics tables cannot be read now: ${(error as Error).message}` });
      }
    });
  };
}

/** The series of an endpoint, read with an engine of its own. */
export async function seriesOf(source: UiSource, endpoint: string, granularity: Granularity): Promise<DashboardSeries> {
  const engine = await source.open();
  try {
    return await dashboardSeries(engine, await tableNames(engine), endpoint, granularity);
  } finally {
    engine.close();
  }
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
  $('capture').hidden = !c;
  if (c) $('capture').textContent = 'Capture: ' + c.spilled_waiting + ' records spilled and waiting for redrive, ' + c.set_aside + ' set aside under errors/ with their reason; since start: '
    + c.since_start.spilled + ' spilled, ' + c.since_start.redriven + ' redriven, ' + c.since_start.lost + ' lost.';
  if (c) $('capture').className = c.spilled_waiting + c.since_start.lost > 0 ? 'warn' : '';
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
