// Helpers of the endpoint page: elements built from data (never HTML text), the API, formats.

/** An element with attributes and children; strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Reads the page API; an error answer throws with its message. */
export async function api(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const res = await fetch(path + (query.size > 0 ? '?' + query : ''));
  const body = await res.json().catch(() => ({ message: res.statusText }));
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), { body, status: res.status });
  return body;
}

export function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

/** A cell's text: JSON for objects, empty for null. */
export function text(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A table of rows; `cell(column, value, row)` may return a node. */
export function table(columns, rows, cell = (c, v) => text(v), caption) {
  const numeric = new Set(columns.filter((c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === 'number')));
  return el('div', { class: 'scroll' }, el('table', {},
    caption ? el('caption', { class: 'empty' }, caption) : null,
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col', class: numeric.has(c) ? 'num' : undefined }, c)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c) => el('td', { class: numeric.has(c) ? 'num' : undefined }, cell(c, r[c], r))))))));
}

/** Term and description pairs. */
export function facts(pairs) {
  return el('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v === null || v === '' ? '—' : v)]));
}

export const fmt = (x, digits = 3) => (x === null || x === undefined ? '—' : typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toPrecision(digits)) : String(x));

/** The hash route: view name and parameters (`#/requests?endpoint=iris`). */
export function route() {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  return { view: path || 'endpoints', params: Object.fromEntries(new URLSearchParams(query || '')) };
}

export function go(view, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const next = '#/' + view + (query.size > 0 ? '?' + query : '');
  // The same address again (a query run twice): render anyway.
  if (location.hash === next) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = next;
}

/** Fills a select with options and keeps the value when it is still one of them. */
export function options(select, values, value) {
  select.replaceChildren(...values.map((v) => (typeof v === 'string' ? el('option', { value: v }, v) : el('option', { value: v.value }, v.label))));
  if (value !== undefined && [...select.options].some((o) => o.value === value)) select.value = value;
}
