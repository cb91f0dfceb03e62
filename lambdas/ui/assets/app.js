// The endpoint page: endpoints, requests with their inspector, and the SQL console. The
// monitoring view is in monitor.js. Every value from the server is set as text, never as HTML.
import { $, api, el, facts, fmt, go, options, route, status, table, text } from './dom.js';
import { renderMonitoring } from './monitor.js';
import { printJson, readJson } from './json.js';

const REDACTED = '"[REDACTED]"';
// The endpoints' names and served entities (every view's menus); the endpoints view reads the rest.
let endpoints = null;

function showWhere(answer) {
  const w = answer.where;
  $('where').textContent = w.kind === 'local' ? `local data folder ${w.dataDir}` : `environment ${w.environment} · Athena workgroup ${w.workgroup} · database ${w.database}`;
  $('where').append(` · configuration version ${answer.config_version}`);
}

const endpointNames = () => endpoints.endpoints.map((e) => e.name);

function healthBadge(h) {
  return h ? el('span', { class: 'badge ' + h.status }, h.status) : el('span', { class: 'badge' }, 'NOT CHECKED');
}

async function renderEndpoints() {
  const overview = await api('/api/ui/overview');
  showWhere(overview);
  endpoints = { endpoints: overview.endpoints.map((e) => ({ name: e.name, served_entities: e.entities.map((x) => x.served_entity_name), granularities: e.granularities })) };
  $('endpoints').replaceChildren(...overview.endpoints.map((e) => {
    const entities = e.entities.map((x) => ({ served_entity: x.served_entity_name, model: x.entity_name, version: x.entity_version, stage: x.stage, aliases: x.aliases, backend: `${x.backend_type} ${x.backend_target}`, traffic: x.traffic_percentage === null ? '' : x.traffic_percentage + '%' }));
    const capture = e.capture.enabled ? `on, sampling ${e.capture.sampling_fraction}` : 'off';
    const ch = e.capture_health;
    return el('article', { class: 'card', 'data-endpoint': e.name, 'aria-labelledby': 'card-' + e.name },
      el('h3', { id: 'card-' + e.name }, e.name, el('span', { class: 'kind' }, e.route === 'endpoint' ? 'serving endpoint' : 'registered model (classic route)'), healthBadge(e.health)),
      e.health && e.health.status !== 'ACTIVE' ? el('p', { class: 'message' }, e.health.message) : null,
      facts([
        ['Capture', capture],
        ['Table health', e.health ? `${e.health.status}, checked ${e.health.checked_at}` : 'not checked yet: the first refresh checks it'],
        ['Last request', e.last_request ?? 'none in the past 7 days'],
        ['Last refresh', e.last_refresh ?? 'none yet'],
        ch ? ['Capture path', `${ch.spilled_waiting} spilled and waiting, ${ch.set_aside} set aside; since start ${ch.since_start.lost} lost, ${ch.since_start.redriven} redriven`] : undefined,
      ].filter(Boolean)),
      el('h4', {}, 'Served entities'),
      entities.length > 0 ? table(Object.keys(entities[0]), entities) : el('p', { class: 'empty' }, 'none'),
      el('h4', {}, 'Tables'),
      e.tables.length > 0
        ? table(['table', 'rows'], e.tables.map((t) => ({ table: t.name, rows: t.rows })), (c, v) => (c === 'table' ? el('a', { href: '#/sql?q=' + encodeURIComponent(`SELECT * FROM ${v} LIMIT 100`) }, v) : fmt(v)))
        : el('p', { class: 'empty' }, 'no tables yet: the first captured request creates the payload table'),
      el('p', { class: 'row' }, el('a', { href: '#/requests?endpoint=' + encodeURIComponent(e.name) }, 'Requests'), el('a', { href: '#/monitoring?endpoint=' + encodeURIComponent(e.name) }, 'Monitoring')));
  }));
  if (overview.alarms_error) { $('alarms').replaceChildren(el('h3', {}, 'CloudWatch alarms'), el('p', { class: 'error' }, overview.alarms_error)); return; }
  $('alarms').replaceChildren(...(overview.alarms ? [el('h3', {}, 'CloudWatch alarms'), overview.alarms.length > 0 ? table(['name', 'state', 'reason', 'updated_at'], overview.alarms, (c, v) => (c === 'state' ? el('span', { class: 'badge ' + (v === 'OK' ? 'ok' : v === 'ALARM' ? 'bad' : 'warn') }, v) : text(v))) : el('p', { class: 'empty' }, 'none')] : []));
}

// ---- requests

const FILTERS = ['endpoint', 'from', 'to', 'status', 'served_entity', 'requester', 'client_request_id'];

async function renderRequests(params) {
  const form = $('request-filter');
  const endpoint = params.endpoint || endpointNames()[0];
  options($('req-endpoint'), endpointNames(), endpoint);
  const card = endpoints.endpoints.find((e) => e.name === endpoint);
  options($('req-entity'), [{ value: '', label: 'any' }, ...(card ? card.served_entities : [])], params.served_entity || '');
  for (const name of FILTERS.slice(1)) if (form.elements[name]) form.elements[name].value = params[name] || '';
  const page = Number(params.page || 0);
  // The list and the request opened are read in one call.
  const answer = await api('/api/ui/requests', { ...Object.fromEntries(FILTERS.map((f) => [f, params[f]])), endpoint, page, id: params.id, date: params.date });
  const link = (r) => '#/requests?' + new URLSearchParams({ ...params, endpoint, id: r.request_id, date: r.date });
  $('requests').replaceChildren(answer.rows.length === 0
    ? el('p', { class: 'empty' }, page > 0 ? 'No more requests.' : 'No captured request matches. Captured requests appear a few seconds after they are answered.')
    : table(['request_time', 'status_code', 'execution_time_ms', 'client_request_id', 'served_entity_name', 'requester', 'request_id'], answer.rows,
      (c, v, r) => c === 'request_time' ? el('a', { href: link(r), 'data-id': r.request_id, 'aria-label': `Open request ${r.client_request_id ?? r.request_id} of ${v}` }, v) : c === 'status_code' ? el('span', { class: 'badge ' + (v >= 500 ? 'bad' : v >= 400 ? 'warn' : 'ok') }, v) : text(v)));
  $('page').textContent = `page ${page + 1} · ${answer.rows.length} requests`;
  $('prev').disabled = page === 0;
  $('next').disabled = !answer.has_more;
  $('prev').onclick = () => go('requests', { ...params, endpoint, page: page - 1, id: undefined });
  $('next').onclick = () => go('requests', { ...params, endpoint, page: page + 1, id: undefined });
  $('requests-sql').href = '#/sql?q=' + encodeURIComponent(answer.sql);
  status('');
  if (answer.detail) renderInspector(answer.detail);
  else closeInspector(false);
  if (returnFocusTo) {
    [...document.querySelectorAll('#requests a[data-id]')].find((a) => a.dataset.id === returnFocusTo)?.focus();
    returnFocusTo = null;
  }
}

// The request whose link gets the focus back once its inspector is closed.
let returnFocusTo = null;

function closeInspector(navigate = true) {
  $('inspector').hidden = true;
  document.querySelector('#view-requests .split').classList.remove('open');
  if (navigate) {
    const { params } = route();
    returnFocusTo = params.id ?? null;
    delete params.id;
    delete params.date;
    go('requests', params);
  }
}

/** The unpacked rows' columns as the inspector shows them: the answer and its label first, then the features; what the facts above already say is left out. */
function unpackedColumns(columns) {
  const first = ['row_index', 'prediction', 'label'].filter((c) => columns.includes(c));
  const shown = new Set(['request_id', 'client_request_id', 'date', 'unpacked_at', 'timestamp', 'model_name', 'model_version', 'model_id', ...first]);
  return [...first, ...columns.filter((c) => !shown.has(c))];
}

/** A body pretty-printed, redacted values marked as such. */
function body(textValue, missing) {
  if (textValue === null || textValue === undefined) return el('p', { class: 'empty' }, missing);
  let shown = textValue;
  try { shown = printJson(readJson(textValue)); } catch { /* not JSON: shown as received */ }
  const parts = shown.split(REDACTED);
  return el('pre', { class: 'body', tabindex: '0' }, parts.flatMap((p, i) => (i === 0 ? [p] : [el('mark', { class: 'redacted' }, REDACTED), p])));
}

function renderInspector(detail) {
  if (detail.error) {
    $('inspector-body').replaceChildren(el('p', { class: 'error' }, detail.error));
    $('inspector').hidden = false;
    document.querySelector('#view-requests .split').classList.add('open');
    return;
  }
  const { request: r, unpacked, conversation } = detail;
  const codes = r.logging_error_codes ? r.logging_error_codes.split(', ') : [];
  const tokens = r;
  $('inspector-body').replaceChildren(...[
    facts([
      ['request_id', r.request_id], ['client_request_id', r.client_request_id], ['Time (UTC)', r.request_time],
      ['Status', el('span', { class: 'badge ' + (r.status_code >= 500 ? 'bad' : r.status_code >= 400 ? 'warn' : 'ok') }, r.status_code)],
      ['Model latency', r.execution_time_ms === null ? 'backend not called' : r.execution_time_ms + ' ms'],
      ['Served entity', `${r.served_entity_name ?? '—'} (${r.served_entity_id ?? '—'})`],
      ['Model', `${r.model_name ?? '—'} version ${r.model_version ?? '—'}`],
      ['Requester', r.requester], ['Input format', r.request_format], ['Sampling fraction', r.sampling_fraction],
      ['Logging error codes', codes.length > 0 ? codes.join(', ') : 'none'],
      tokens.input_tokens !== null && tokens.input_tokens !== undefined ? ['Tokens', `${tokens.input_tokens} in, ${tokens.output_tokens ?? '—'} out${tokens.tokens_counted ? ' (counted by the proxy)' : ''}`] : undefined,
      r.streamed ? ['Streamed', `yes, first token after ${r.time_to_first_token_ms ?? '—'} ms`] : undefined,
    ].filter(Boolean)),
    conversation ? el('section', { 'aria-label': 'Conversation' }, el('h4', {}, 'Conversation'), el('div', { class: 'conversation' }, conversation.map((m) =>
      el('div', { class: 'msg ' + m.role }, el('span', { class: 'role' }, m.role + (m.finish_reason ? ` · finish: ${m.finish_reason}` : '')), m.text, m.tool_calls ? el('pre', { class: 'body' }, JSON.stringify(m.tool_calls, null, 2)) : null)))) : null,
    el('h4', {}, 'Request body'), body(r.request, `Not captured: ${codes.includes('MAX_REQUEST_SIZE_EXCEEDED') ? 'over the capture size cap' : 'no body'}.`),
    el('h4', {}, 'Response body'), body(r.response, `Not captured: ${codes.includes('MAX_RESPONSE_SIZE_EXCEEDED') ? 'over the capture size cap' : 'no body'}.`),
    el('h4', {}, `Unpacked rows${unpacked ? ` (${unpacked.rows.length})` : ''}`),
    !unpacked ? el('p', { class: 'empty' }, 'Not unpacked yet: the next refresh unpacks it.')
      : unpacked.rows.length === 0 ? el('p', { class: 'empty' }, r.status_code >= 300 ? 'None: only answered requests are unpacked.' : 'None yet, or the body could not be unpacked (see the unpack_errors table).')
        : table(unpackedColumns(unpacked.columns), unpacked.rows),
  ].filter(Boolean));
  $('inspector').hidden = false;
  document.querySelector('#view-requests .split').classList.add('open');
  $('h-inspector').textContent = `Request ${r.client_request_id ?? r.request_id}`;
  $('inspector').focus({ preventScroll: true });
}

// ---- SQL console

function csvOf(result) {
  const quote = (v) => { const t = text(v); return /[",\n\r]/.test(t) ? '"' + t.replaceAll('"', '""') + '"' : t; };
  return [result.columns.map(quote).join(','), ...result.rows.map((r) => result.columns.map((c) => quote(r[c])).join(','))].join('\r\n') + '\r\n';
}

function showSqlError(sql, e) {
  const box = $('sql-error');
  const b = e.body || {};
  const lines = [e.message];
  if (b.line) {
    const line = sql.split('\n')[b.line - 1] ?? '';
    lines.push('', `line ${b.line}, column ${b.column}:`, line, ' '.repeat(Math.max(0, b.column - 1)) + '^');
    const ta = $('sql-text');
    const offset = sql.split('\n').slice(0, b.line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, b.column - 1);
    ta.setSelectionRange(offset, offset + 1);
  }
  box.textContent = lines.join('\n');
  box.hidden = false;
}

async function runSql(sql) {
  $('sql-error').hidden = true;
  $('csv').hidden = true;
  $('sql-meta').textContent = 'Running…';
  $('sql-results').replaceChildren();
  try {
    const r = await api('/api/sql', { q: sql });
    const s = r.stats;
    $('sql-meta').textContent = `${r.rows.length} rows${r.truncated ? ` (first ${r.max_rows}; more were left)` : ''} in ${r.elapsed_ms} ms`
      + (s ? ` · ${(s.bytesScanned / 1e6).toFixed(2)} MB scanned, $${s.costUsd.toFixed(6)} · query ${s.queryId}` : '');
    $('sql-results').replaceChildren(table(r.columns, r.rows));
    const link = $('csv');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([csvOf(r)], { type: 'text/csv' }));
    link.hidden = false;
  } catch (e) {
    $('sql-meta').textContent = '';
    showSqlError(sql, e);
  }
}

let examplesLoaded = false;
async function renderSql(params) {
  if (!examplesLoaded) {
    const { queries } = await api('/api/ui/queries');
    const select = $('examples');
    select.append(...queries.map((q, i) => el('option', { value: String(i), title: q.description }, q.name)));
    select.onchange = () => { const q = queries[Number(select.value)]; if (q) $('sql-text').value = q.sql; };
    examplesLoaded = true;
  }
  if (params.q !== undefined) {
    $('sql-text').value = params.q;
    await runSql(params.q);
  }
  status('');
}

// ---- router

const VIEWS = { endpoints: async () => { await renderEndpoints(); status(''); }, requests: renderRequests, sql: renderSql, monitoring: (p) => renderMonitoring(p, endpoints) };

async function renderOnce() {
  const { view, params } = route();
  const name = VIEWS[view] ? view : 'endpoints';
  for (const v of Object.keys(VIEWS)) $('view-' + v).hidden = v !== name;
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    // The endpoints view reads them with the rest; the others need only the menus.
    if (!endpoints && name !== 'endpoints') {
      endpoints = await api('/api/ui/endpoints');
      showWhere(endpoints);
    }
    await VIEWS[name](params);
  } catch (e) {
    status(e.message, true);
  }
  document.body.dataset.view = name;
}

// Renders run one at a time, the latest address last: a slow one never paints over a newer one.
let pending = false;
let running = null;
function render() {
  pending = true;
  document.body.dataset.loaded = 'false';
  running ??= (async () => {
    while (pending) {
      pending = false;
      await renderOnce();
    }
    running = null;
    document.body.dataset.loaded = 'true';
  })();
}

$('request-filter').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const data = Object.fromEntries(new FormData(ev.target));
  go('requests', data);
});
$('req-endpoint').addEventListener('change', (ev) => go('requests', { endpoint: ev.target.value }));
$('close-inspector').addEventListener('click', () => closeInspector());
// Escape closes the inspector, in the requests view only.
document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape' && route().view === 'requests' && !$('inspector').hidden) closeInspector(); });
$('sql-form').addEventListener('submit', (ev) => { ev.preventDefault(); go('sql', { q: $('sql-text').value }); });
$('sql-text').addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); $('sql-form').requestSubmit(); } });
window.addEventListener('hashchange', render);
render();
