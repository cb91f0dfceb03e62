import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { normalizeLabelsFile } from '../../lambdas/adapters/local/labels-file.js';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { ROOT, configWith } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { rawRequest } from '../helpers/raw-http.js';
import { browserRefusal } from '../../lambdas/adapters/local/local-auth.js';

/**
 * The endpoint page at `/` in Debian's Chromium, as a new user meets it after `npm start` and
 * the README's curl examples: the endpoints with their health, `order-42` found by its id and
 * read whole with its three unpacked rows and their labels, a query run in the console (and a
 * bad one shown with its position), the monitoring views, an LLM call as a conversation with
 * a redacted value marked, and the page at a narrow width. Each view is screenshotted into
 * test-results/ui/ (not committed).
 */

// The chat endpoint redacts the caller's `user` field.
const config = configWith((raw) => {
  raw.endpoints[1].capture = { ...raw.endpoints[1].capture, redact_paths: ['$.user'] };
});
const iris = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'iris-predictions.json'), 'utf8')) as { inputs: number[][] };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SHOTS = join(ROOT, 'test-results', 'ui');

let dir: string;
let stack: LocalStack;
let browser: Browser;

const post = (path: string, body: unknown) => fetch(`${stack.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-page-'));
  await mkdir(SHOTS, { recursive: true });
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  // The README's order-42: three rows in one request.
  const readme = { client_request_id: 'order-42', dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[5.1, 3.5, 1.4, 0.2], [4.9, 3, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] } };
  expect((await post('/serving-endpoints/iris/invocations', readme)).status).toBe(200);
  for (let i = 0; i < 3; i++) {
    const res = await post('/serving-endpoints/iris/invocations', { client_request_id: `batch-${i}`, dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: iris.inputs } });
    expect(res.status).toBe(200);
  }
  expect((await post('/serving-endpoints/iris/invocations', { client_request_id: 'bad-1', oops: [] })).status).toBe(400);
  const chat = await post('/serving-endpoints/chat/invocations', { client_request_id: 'chat-7', user: 'alice@example.com', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'what is a sepal?' }] });
  expect(chat.status).toBe(200);
  await stack.stream.flush();
  await writeFile(join(dir, 'labels.csv'), ['client_request_id,row_index,label', 'order-42,0,0', 'order-42,1,0', 'order-42,2,1', ...iris.inputs.map((_, i) => `batch-0,${i},${i % 3}`)].join('\n'));
  const labels = await normalizeLabelsFile(join(dir, 'labels.csv'), 'iris');
  await new FileObjectStore(dir).put(labels.key, labels.body);
  await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A page at 1280×800 that records script errors. */
async function open(hash: string, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.server.url}/${hash}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  return { page, errors };
}

/** Waits for the view to finish loading after a navigation inside the page. */
async function settled(page: Page, view: string): Promise<void> {
  await page.waitForSelector(`body[data-loaded="true"][data-view="${view}"]`, { timeout: 20_000 });
}

describe('the endpoint page in Chromium', () => {
  it('lists every endpoint and model with its health, served entities, capture and tables with row counts', async () => {
    const { page, errors } = await open('');
    const card = page.locator('article[data-endpoint="iris"]');
    await expect(card.locator('.badge').first().textContent()).resolves.toBe('ACTIVE');
    const text = await card.textContent();
    expect(text).toMatch(/iris-classifier-2.*Production.*champion.*90%/s);
    expect(text).toMatch(/iris-classifier-3.*Staging.*challenger.*10%/s);
    expect(text).toMatch(/Captureon, sampling 1/);
    expect(text).toMatch(/Last request\d{4}-\d\d-\d\d \d\d:\d\d/);
    expect(text).toMatch(/Last refresh\d{4}-\d\d-\d\dT/);
    // 1 + 3 + 1 requests captured, 3 + 3×150 rows unpacked.
    const rows = Object.fromEntries((await card.locator('table').nth(1).locator('tbody tr').allTextContents()).map((t) => [t.replace(/\d+$/, ''), Number(/\d+$/.exec(t)?.[0])]));
    expect(rows).toMatchObject({ iris_payload: 5, iris_unpacked: 3 + 3 * iris.inputs.length });
    expect(await page.locator('article[data-endpoint]').count()).toBe(4);
    expect(await page.locator('article[data-endpoint="iris-classifier"] .kind').textContent()).toMatch(/registered model/);
    expect(await page.locator('#where').textContent()).toContain(dir);
    await page.screenshot({ path: join(SHOTS, 'endpoints.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('finds order-42 by its client_request_id from the keyboard, and reads its bodies and its three unpacked rows with their labels', async () => {
    const { page, errors } = await open('#/requests?endpoint=iris');
    expect(await page.locator('#requests tbody tr').count()).toBe(5);
    await page.getByLabel('client_request_id').fill('order-42');
    await page.keyboard.press('Enter');
    await settled(page, 'requests');
    await expect(page.locator('#requests tbody tr').count()).resolves.toBe(1);
    await page.locator('#requests tbody a').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#inspector:not([hidden])');
    await settled(page, 'requests');
    const inspector = page.locator('#inspector');
    expect(await inspector.locator('h3').textContent()).toBe('Request order-42');
    expect(await inspector.locator('pre.body').first().textContent()).toContain('"client_request_id": "order-42"');
    expect(await inspector.locator('pre.body').nth(1).textContent()).toMatch(/"predictions": \[/);
    const unpacked = inspector.locator('table').last();
    expect(await inspector.textContent()).toContain('Unpacked rows (3)');
    const header = await unpacked.locator('thead th').allTextContents();
    const labelAt = header.indexOf('label');
    const labels = await unpacked.locator('tbody tr').evaluateAll((trs, i) => trs.map((tr) => tr.children[i]?.textContent), labelAt);
    expect(labels).toEqual(['0', '0', '1']);
    await page.screenshot({ path: join(SHOTS, 'inspector.png'), fullPage: true });
    // Escape closes it.
    await page.keyboard.press('Escape');
    await page.waitForSelector('#inspector[hidden]', { state: 'attached' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by status and pages on the server', async () => {
    const { page } = await open('#/requests?endpoint=iris&status=4xx');
    expect(await page.locator('#requests tbody tr').count()).toBe(1);
    expect(await page.locator('#requests tbody').textContent()).toContain('bad-1');
    const res = await fetch(`${stack.server.url}/api/ui/requests?endpoint=iris&page_size=2&page=1`);
    const body = (await res.json()) as { rows: { client_request_id: string }[]; has_more: boolean };
    expect(body.rows).toHaveLength(2);
    expect(body.has_more).toBe(true);
    await page.close();
  });

  it('runs the README query in the console, shows the grid and offers it as CSV', async () => {
    const { page, errors } = await open('#/sql');
    expect(await page.locator('#examples option').count()).toBeGreaterThan(3);
    await page.locator('#sql-text').fill('SELECT status_code, count(*) FROM iris_payload GROUP BY 1 ORDER BY 1');
    await page.locator('#sql-text').press('Control+Enter');
    await page.waitForSelector('#sql-results table');
    await settled(page, 'sql');
    expect(await page.locator('#sql-results thead th').allTextContents()).toEqual(['status_code', '_col1']);
    expect(await page.locator('#sql-results tbody tr').allTextContents()).toEqual(['2004', '4001']);
    expect(await page.locator('#sql-meta').textContent()).toMatch(/^2 rows in \d+ ms$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#csv').click()]);
    expect(await readFile((await download.path()) as string, 'utf8')).toBe('status_code,_col1\r\n200,4\r\n400,1\r\n');
    await page.screenshot({ path: join(SHOTS, 'sql.png') });
    // An example fills the editor.
    await page.selectOption('#examples', { index: 1 });
    expect(await page.locator('#sql-text').inputValue()).toMatch(/^SELECT/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a bad query with its line and column, and refuses a way out of the tables', async () => {
    const { page } = await open(`#/sql?q=${encodeURIComponent('SELECT status_code,\n  count(* FROM iris_payload')}`);
    const error = page.locator('#sql-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/line 2:11: .*\n\nline 2, column 11:\n {2}count\(\* FROM iris_payload\n {10}\^$/);
    await page.screenshot({ path: join(SHOTS, 'sql-error.png') });
    await page.locator('#sql-text').fill("SELECT * FROM read_text('/etc/passwd')");
    await page.locator('#sql-form button[type=submit]').click();
    await page.waitForSelector('#sql-error:not([hidden])');
    expect(await error.textContent()).toMatch(/read_text/);
    expect(await page.locator('#sql-results table').count()).toBe(0);
    await page.close();
  });

  it('shows monitoring: the series, a window with its confusion matrix and drift, a column against the previous window and the baseline', async () => {
    const { page, errors } = await open('#/monitoring?endpoint=iris&granularity=1%20day');
    for (const figure of await page.locator('#mon-charts figure').all()) expect(Number(await figure.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(await page.locator('#mon-charts canvas').count()).toBe(5);
    const matrix = page.locator('table.matrix');
    expect(await matrix.locator('thead th').allTextContents()).toEqual(['label \\ prediction', '0', '1', '2']);
    expect(await page.locator('#mon-window-body').textContent()).toMatch(/accuracy_score/);
    expect(await page.locator('#mon-window-body').textContent()).toMatch(/NO_DRIFT|DRIFT|INSUFFICIENT_DATA/);
    // A numeric column: a histogram of the window, the previous window and the baseline.
    await page.selectOption('#mon-column', 'petal_length');
    await settled(page, 'monitoring');
    const column = page.locator('#mon-column-body');
    expect(await column.locator('.legend').textContent()).toMatch(/this window \(\d+ values\).*previous window \(0 values\).*baseline \(150 values\)/);
    expect(await column.locator('figure canvas').count()).toBe(2);
    // A categorical one: bars per class, with the figures written out.
    await page.selectOption('#mon-column', 'prediction');
    await settled(page, 'monitoring');
    expect(await column.locator('.bars').count()).toBe(1);
    expect(await column.locator('details table thead th').first().textContent()).toBe('value');
    // An alert links to its window.
    const alert = page.locator('#mon-alerts a').first();
    expect(await alert.getAttribute('href')).toMatch(/^#\/monitoring\?endpoint=iris&granularity=1\+day&window=/);
    await page.screenshot({ path: join(SHOTS, 'monitoring.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('reads an LLM call as a conversation with tokens, and marks a redacted value as redacted', async () => {
    const { page, errors } = await open('#/requests?endpoint=chat&client_request_id=chat-7');
    await page.locator('#requests tbody a').click();
    await page.waitForSelector('#inspector:not([hidden])');
    await settled(page, 'requests');
    const messages = await page.locator('.conversation .msg').allTextContents();
    expect(messages).toEqual(['systembe brief', 'userwhat is a sepal?', 'assistant · finish: stopwhat is a sepal?']);
    expect(await page.locator('#inspector').textContent()).toMatch(/Tokens\d+ in, \d+ out/);
    expect(await page.locator('mark.redacted').textContent()).toBe('"[REDACTED]"');
    expect(await page.locator('#inspector').textContent()).not.toContain('alice@example.com');
    await page.screenshot({ path: join(SHOTS, 'conversation.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('fits a narrow window without the page scrolling sideways, and names its states in words', async () => {
    const { page } = await open('', { width: 390, height: 800 });
    const [scroll, width] = await page.locator('html').evaluate((html) => [html.scrollWidth, html.clientWidth]);
    expect(scroll).toBeLessThanOrEqual(width);
    expect(await page.locator('article[data-endpoint="iris"] .badge').first().textContent()).toBe('ACTIVE');
    await page.screenshot({ path: join(SHOTS, 'narrow.png'), fullPage: true });
    await page.close();
  });

  it('answers bad parameters with a JSON error that names them', async () => {
    const ask = async (path: string) => {
      const res = await fetch(`${stack.server.url}${path}`);
      return { status: res.status, body: (await res.json()) as { error_code: string; message: string } };
    };
    expect(await ask('/api/ui/requests?endpoint=nope')).toMatchObject({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect(await ask('/api/ui/requests?endpoint=iris&from=yesterday')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^from: must be an ISO 8601/) } });
    expect(await ask('/api/ui/requests?endpoint=iris&page_size=5000')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^page_size: /) } });
    expect(await ask('/api/ui/request?endpoint=iris&id=missing')).toMatchObject({ status: 404, body: { message: 'No request missing in iris_payload.' } });
    expect(await ask('/api/ui/column?endpoint=iris&window=2026-01-01%2000:00:00&column=x;drop')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^column: /) } });
    expect(await ask('/api/ui/column?endpoint=iris&window=2026-01-01%2000:00:00&column=sepal_length&slice_key=nosuch&slice_value=1')).toMatchObject({
      status: 400,
      body: { message: 'slice_key: iris is sliced by model_version (monitoring.slices), not nosuch' },
    });
    for (const window of ['2026-13-45 99:99:99', '2026-02-30 00:00:00']) {
      expect(await ask(`/api/ui/window?endpoint=iris&window=${encodeURIComponent(window)}`)).toMatchObject({ status: 400, body: { message: 'window: is not a date and time that exists' } });
      expect((await ask(`/api/ui/column?endpoint=iris&column=prediction&window=${encodeURIComponent(window)}`)).status).toBe(400);
    }
    expect(await ask('/api/ui/request?endpoint=iris&id=x&date=30-11-2026')).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^date: must be a date/) } });
    expect(await ask('/api/ui/nothing')).toMatchObject({ status: 404, body: { error_code: 'ENDPOINT_NOT_FOUND' } });
    const post = await fetch(`${stack.server.url}/api/ui/overview`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('is served alone by `inference-tables ui` over a data folder, on loopback, until Ctrl-C', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'inference-tables.mjs'), 'ui', '--data-dir', dir, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address in: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const found = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (found) {
          clearTimeout(timer);
          resolve(found[1] as string);
        }
      });
    });
    expect(out).toContain(`endpoint page for data folder ${dir}`);
    const endpoints = (await (await fetch(`${url}/api/ui/endpoints`)).json()) as { endpoints: { name: string }[] };
    expect(endpoints.endpoints.map((e) => e.name)).toEqual(['iris', 'chat', 'iris-classifier', 'echo']);
    const found = (await (await fetch(`${url}/api/ui/requests?endpoint=iris&client_request_id=order-42`)).json()) as { rows: unknown[] };
    expect(found.rows).toHaveLength(1);
    // It scores nothing: the page only.
    expect((await fetch(`${url}/serving-endpoints/iris/invocations`, { method: 'POST', body: '{}' })).status).toBe(404);
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  }, 60_000);

  it("refuses another site's page: a rebound DNS name as Host, or a browser's cross-site request", async () => {
    const sql = `/api/sql?q=${encodeURIComponent('SELECT request FROM iris_payload')}`;
    const rebound = await rawRequest(stack.server.url, { method: 'GET', path: sql, headers: { host: `attacker.example:${new URL(stack.server.url).port}` } });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toEqual({ error_code: 'PERMISSION_DENIED', message: 'This server answers requests addressed to its loopback address, not to attacker.example.' });
    const crossSite = await rawRequest(stack.server.url, { method: 'GET', path: sql, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    // The page's own calls, and a client that is no browser, are answered.
    expect((await rawRequest(stack.server.url, { method: 'GET', path: sql, headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    expect((await rawRequest(stack.server.url, { method: 'GET', path: sql, headers: { host: `localhost:${new URL(stack.server.url).port}` } })).status).toBe(200);
    // Beyond loopback the token guards the server, whatever name it is reached by.
    expect(browserRefusal({ headers: { host: 'inference.internal:8080' } }, false)).toBeNull();
    expect(browserRefusal({ headers: { host: '[::1]:8080' } }, true)).toBeNull();
    expect(browserRefusal({ headers: { host: '127.0.0.2' } }, true)).toBeNull();
    expect(browserRefusal({ headers: { host: '[fe80::1]:80' } }, true)).toMatch(/not to \[fe80::1\]/);
    expect(browserRefusal({ headers: { 'sec-fetch-site': 'same-site' } }, false)).toMatch(/another site/);
  });

  it('shows a body as it was sent: numbers keep their digits, a key sent twice is shown twice; Escape returns to the row', async () => {
    const body = '{"client_request_id":"digits-1","inputs":[[5.1,3.5,1.4,0.2]],"params":{"order_id":9007199254740993,"ratio":1.10},"params":{"again":true}}';
    const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(400);
    await stack.stream.flush();
    const { page, errors } = await open('#/requests?endpoint=iris&client_request_id=digits-1');
    await page.locator('#requests tbody a').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#inspector:not([hidden])');
    await settled(page, 'requests');
    const shown = await page.locator('#inspector pre.body').first().textContent();
    expect(shown).toContain('"order_id": 9007199254740993, "ratio": 1.10');
    expect(shown?.match(/"params"/g)).toHaveLength(2);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#inspector[hidden]', { state: 'attached' });
    await settled(page, 'requests');
    expect(await page.locator('#requests a:focus').getAttribute('aria-label')).toMatch(/^Open request digits-1 of /);
    // Escape elsewhere does nothing to the requests view.
    await page.goto(`${stack.server.url}/#/sql`);
    await settled(page, 'sql');
    await page.locator('#sql-text').press('Escape');
    expect(page.url()).toMatch(/#\/sql$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws a column whose values span more than a double can subtract (one request can send ±1.7e308)', async () => {
    const res = await post('/serving-endpoints/iris/invocations', { client_request_id: 'huge', dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[5, 3, 1.7e308, 1], [5, 3, -1.7e308, 1]] } });
    expect(res.status).toBe(200);
    await stack.stream.flush();
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT });
    const answer = await fetch(`${stack.server.url}/api/ui/monitoring?endpoint=iris&granularity=1%20day&column=petal_length`);
    expect(answer.status).toBe(200);
    const view = ((await answer.json()) as { view: { column_view: { distribution: { labels: string[]; current: number[] } } } }).view.column_view.distribution;
    expect(view.labels).toHaveLength(20);
    expect(view.labels[0]).toMatch(/^-1\.7e\+308 – /);
    // Every value is in a bin: the shares add up to one.
    expect(view.current.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
  }, 60_000);
});
