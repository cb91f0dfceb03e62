// The monitoring view: the endpoint's series over time, then one window (quality, confusion
// matrix, drift verdicts, alerts) and one column (its distribution against the previous window
// and the baseline, its drift over time). Charts are uPlot; every figure is also written out.
import { $, api, el, fmt, go, options, status, table, text } from './dom.js';

// The window lengths of the endpoint shown, with their seconds (from its monitoring settings).
let SECONDS = {};
// Series differ by dash as well as colour, so a chart reads without colour.
const STYLES = [{ stroke: '#0b57d0' }, { stroke: '#5f6368', dash: [6, 4] }, { stroke: '#e37400', dash: [2, 3] }];

// Measured once per render: reading the layout while charts are added would force one layout per chart.
let chartWidth = 520;

function chart(title, x, series, opts = {}) {
  const box = el('figure', { class: 'chart', 'data-points': String(series.reduce((n, s) => n + s.values.filter((v) => v !== null).length, 0)) }, el('h4', {}, title));
  const points = Number(box.dataset.points);
  if (points === 0) { box.append(el('p', { class: 'empty' }, opts.empty || 'No data yet: score, then refresh.')); return box; }
  const width = chartWidth;
  const scales = opts.time === false ? { x: { time: false } } : { x: { time: true, auto: false, range: [Math.min(...x) - opts.pad, Math.max(...x) + opts.pad] } };
  // uPlot draws into the figure; the legend under it lists each series with its value.
  new window.uPlot({ width, height: 200, scales, series: [{ label: opts.xLabel }, ...series.map((s, i) => ({ label: s.label, ...STYLES[i % STYLES.length], width: 2, points: { show: true }, ...(s.paths ? { paths: s.paths } : {}) }))],
    axes: [opts.axis || {}, {}] }, [x, ...series.map((s) => s.values)], box);
  return box;
}

function seriesCharts(s, granularity) {
  const pad = SECONDS[granularity] || 3600;
  const x = s.windows;
  const charts = [
    chart('Volume (requests, predictions)', x, [{ label: 'requests', values: s.request_count }, { label: 'predictions', values: s.predictions }], { pad }),
    chart('Model latency (ms)', x, [{ label: 'p50', values: s.latency_p50_ms }, { label: 'p99', values: s.latency_p99_ms }], { pad }),
    chart('Error rate (5xx)', x, [{ label: 'error rate', values: s.error_rate }], { pad }),
    chart('Drift (columns drifted, max JS distance)', x, [{ label: 'drifted vs baseline', values: s.drifted_baseline }, { label: 'drifted vs previous', values: s.drifted_consecutive }, { label: 'max JS', values: s.max_js_distance }], { pad }),
    chart(`Quality (${s.quality_metric}, label coverage)`, x, [{ label: s.quality_metric, values: s.quality }, { label: 'labelled', values: s.label_coverage }], { pad }),
  ];
  if (s.llm) charts.push(chart('Tokens (means)', x, [{ label: 'prompt', values: s.llm.prompt_tokens }, { label: 'completion', values: s.llm.completion_tokens }], { pad }),
    chart('Speed', x, [{ label: 'TTFT ms', values: s.llm.time_to_first_token_ms }, { label: 'tokens/s', values: s.llm.output_tokens_per_second }], { pad }),
    chart('Answers (shares)', x, [{ label: 'empty', values: s.llm.empty_answer_rate }, { label: 'refused', values: s.llm.refusal_rate }, { label: 'cut (length)', values: s.llm.truncated_rate }], { pad }));
  $('mon-charts').replaceChildren(...charts);
}

function confusion(cm) {
  if (!cm || !cm.labels || cm.labels.length === 0) return el('p', { class: 'empty' }, 'No confusion matrix: it needs labels joined to a classification model.');
  return el('div', { class: 'scroll' }, el('table', { class: 'matrix', 'aria-label': 'Confusion matrix: rows are labels, columns predictions' },
    el('caption', {}, 'Rows: label (truth) · columns: prediction · diagonal underlined'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'label \\ prediction'), cm.labels.map((l) => el('th', { scope: 'col' }, l)))),
    el('tbody', {}, cm.matrix.map((row, i) => el('tr', {}, el('th', { scope: 'row' }, cm.labels[i]), row.map((n, j) => el('td', { class: i === j ? 'diag' : undefined, title: `label ${cm.labels[i]}, predicted ${cm.labels[j]}: ${n}` }, String(n))))))));
}

const QUALITY = ['count', 'labeled_count', 'label_coverage', 'accuracy_score', 'f1_score', 'precision', 'recall', 'roc_auc', 'log_loss', 'mean_absolute_error', 'root_mean_squared_error', 'r2_score', 'request_count', 'error_rate', 'latency_p50_ms', 'latency_p99_ms'];

function windowPanel(w) {
  const t = w.table;
  const pvalue = (r) => (r.ks_test ? r.ks_test.pvalue : r.chi_squared_test ? r.chi_squared_test.pvalue : null);
  return [
    t ? table(['metric', 'value'], QUALITY.filter((k) => t[k] !== null && t[k] !== undefined).map((k) => ({ metric: k, value: typeof t[k] === 'object' ? `macro ${fmt(t[k].macro)}, weighted ${fmt(t[k].weighted)}` : fmt(t[k], 4) }))) : el('p', { class: 'empty' }, 'No table row for this window and scope.'),
    el('h4', {}, 'Confusion matrix'), confusion(t && t.confusion_matrix),
    el('h4', {}, 'Drift of each column'),
    w.drift.length > 0 ? table(['column_name', 'drift_type', 'verdict', 'js_distance', 'pvalue', 'pvalue_adjusted', 'population_stability_index', 'base_count', 'current_count'], w.drift.map((r) => ({ ...r, pvalue: pvalue(r) })),
      (c, v) => (c === 'verdict' ? el('span', { class: 'badge ' + (v === 'DRIFT' ? 'bad' : v === 'NO_DRIFT' ? 'ok' : 'warn') }, v) : typeof v === 'number' ? fmt(v, 4) : text(v))) : el('p', { class: 'empty' }, 'No drift rows for this window.'),
    el('h4', {}, 'Alerts of this window'),
    w.alerts.length > 0 ? table(['kind', 'message'], w.alerts) : el('p', { class: 'empty' }, 'none'),
  ];
}

function distributionChart(d) {
  const sides = [['current', 'this window'], ['previous', 'previous window'], ['baseline', 'baseline']].filter(([k]) => d[k]);
  const legend = el('p', { class: 'legend' }, sides.map(([k, label]) => el('span', {}, el('span', { class: 'b ' + k }), `${label} (${d.counts[k]} values)`)));
  if (d.kind === 'numeric') {
    const x = d.labels.map((_, i) => i);
    const stepped = window.uPlot.paths.stepped({ align: 1 });
    return [legend, chart('Histogram (share of values per bin)', [...x, x.length], sides.map(([k, label]) => ({ label, values: [...d[k], d[k][d[k].length - 1] ?? null], paths: stepped })),
      { time: false, xLabel: 'bin', axis: { values: (_, ticks) => ticks.map((t) => (d.labels[t] ?? '').split(' – ')[0]) } }), binsTable(d, sides)];
  }
  return [legend, el('div', { class: 'bars', role: 'img', 'aria-label': 'Share of each category' }, d.labels.flatMap((label, i) => [
    el('span', {}, label),
    el('span', { class: 'bar' }, sides.map(([k]) => el('span', { class: 'b ' + k, style: `width: ${(d[k][i] * 100).toFixed(1)}%`, title: `${k}: ${(d[k][i] * 100).toFixed(1)}%` }))),
  ])), binsTable(d, sides)];
}

function binsTable(d, sides) {
  const rows = d.labels.map((label, i) => Object.fromEntries([[d.kind === 'numeric' ? 'bin' : 'value', label], ...sides.map(([k]) => [k, (d[k][i] * 100).toFixed(1) + '%'])]));
  return el('details', {}, el('summary', {}, 'Figures'), table(Object.keys(rows[0] || { bin: '' }), rows));
}

function columnPanel(c, granularity) {
  const byType = (type) => c.drift.filter((r) => r.drift_type === type);
  const windows = [...new Set(c.drift.map((r) => r.window_start))].sort();
  const at = (type) => windows.map((w) => byType(type).find((r) => r.window_start === w)?.js_distance ?? null);
  const x = windows.map((w) => Date.parse(w.replace(' ', 'T').slice(0, 23) + 'Z') / 1000);
  return [
    el('p', {}, `${c.column} (${c.data_type}), window from ${c.window.start} UTC against the previous window and the baseline.`),
    ...distributionChart(c.distribution),
    chart('Drift over time (JS distance)', x, [{ label: 'vs baseline', values: at('BASELINE') }, { label: 'vs previous', values: at('CONSECUTIVE') }],
      { pad: SECONDS[granularity] || 3600, empty: c.drift.length > 0 ? 'No distance yet: a side had no values to compare (see the verdicts).' : undefined }),
    el('details', {}, el('summary', {}, 'Verdicts per window'), table(['window_start', 'drift_type', 'verdict', 'js_distance', 'population_stability_index', 'pvalue_adjusted'], [...c.drift].reverse(),
      (k, v) => (k === 'verdict' ? el('span', { class: 'badge ' + (v === 'DRIFT' ? 'bad' : v === 'NO_DRIFT' ? 'ok' : 'warn') }, v) : typeof v === 'number' ? fmt(v, 4) : text(v)))),
  ];
}

/** The endpoint's table health and last refresh, and where its captured records stand outside the tables. */
function stateLines(m) {
  const t = m.health;
  $('mon-tables').textContent = (t ? `Tables: ${t.status} (checked ${t.checked_at}). ${t.message}` : 'Tables: not checked yet; the first refresh checks them.') + ` Last successful refresh: ${m.last_refresh ?? 'none yet'}.`;
  $('mon-tables').className = t && t.status !== 'ACTIVE' ? 'alert-line' : '';
  const c = m.capture;
  $('mon-capture').hidden = !c;
  if (!c) return;
  $('mon-capture').textContent = `Capture: ${c.spilled_waiting} records spilled and waiting for redrive, ${c.set_aside} set aside under errors/ with their reason; since start: ${c.since_start.spilled} spilled, ${c.since_start.redriven} redriven, ${c.since_start.lost} lost.`;
  $('mon-capture').className = c.spilled_waiting + c.since_start.lost > 0 ? 'alert-line' : '';
}

export async function renderMonitoring(params, endpoints) {
  chartWidth = Math.max(280, Math.min(520, ($('main').clientWidth || 560) - 40));
  const names = endpoints.endpoints.map((e) => e.name);
  const endpoint = params.endpoint || names[0];
  const configured = (endpoints.endpoints.find((e) => e.name === endpoint) || endpoints.endpoints[0]).granularities;
  SECONDS = Object.fromEntries(configured.map((g) => [g.name, g.seconds]));
  // The endpoint's own window lengths; an address naming another (an old link) is shown as asked.
  const granularity = params.granularity || configured[0].name;
  options($('mon-endpoint'), names, endpoint);
  options($('mon-granularity'), [...new Set([...configured.map((g) => g.name), granularity])], granularity);
  const [sliceKey, ...rest] = (params.slice || '').split('=');
  // One call: the choices, the series, and the window and column asked for (or the latest and the first feature).
  const m = await api('/api/ui/monitoring', { endpoint, granularity, window: params.window, model: params.model, column: params.column, ...(sliceKey ? { slice_key: sliceKey, slice_value: rest.join('=') } : {}) });
  seriesCharts(m.series, granularity);
  stateLines(m);
  $('mon-alerts').replaceChildren(m.series.alerts.length > 0
    ? table(['window_start', 'kind', 'message'], m.series.alerts, (c, v) => (c === 'window_start' ? el('a', { href: '#/monitoring?' + new URLSearchParams({ endpoint, granularity, window: v }) }, v) : text(v)))
    : el('p', { class: 'empty' }, 'No alerts.'));
  const view = m.view;
  options($('mon-window'), m.windows, view ? view.window : undefined);
  options($('mon-model'), m.models.map((x) => ({ value: x, label: x === '*' ? 'all models' : x })), params.model || '*');
  options($('mon-slice'), [{ value: '', label: 'whole window' }, ...m.slices.map((s) => ({ value: `${s.key}=${s.value}`, label: `${s.key} = ${s.value}` }))], params.slice || '');
  options($('mon-column'), m.columns.map((c) => c.name), view ? view.column : undefined);
  if (!view) {
    $('mon-window-body').replaceChildren(el('p', { class: 'empty' }, 'No metrics yet: score, then refresh.'));
    $('mon-column-body').replaceChildren();
    status('');
    return;
  }
  const [w, c] = [view.window_view, view.column_view];
  $('mon-window-body').replaceChildren(...windowPanel(w));
  $('mon-column-body').replaceChildren(...(c ? columnPanel(c, granularity) : [el('p', { class: 'empty' }, 'No columns profiled.')]));
  status('');
}

// A select changed from the keyboard fires on every arrow: the view is read once the choice rests.
let settle = null;
$('mon-form').addEventListener('change', (ev) => {
  const name = ev.target.name;
  // Loading from now on, for whoever waits on the page (a script, a test).
  document.body.dataset.loaded = 'false';
  clearTimeout(settle);
  settle = setTimeout(() => {
    const data = Object.fromEntries(new FormData($('mon-form')));
    // A new endpoint or granularity has windows and columns of its own.
    if (name === 'endpoint') go('monitoring', { endpoint: data.endpoint });
    else if (name === 'granularity') go('monitoring', { endpoint: data.endpoint, granularity: data.granularity });
    else go('monitoring', data);
  }, 400);
});
