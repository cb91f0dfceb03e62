import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { normalizeLabelsFile } from '../../lambdas/adapters/local/labels-file.js';
import { runLocalRefresh } from '../helpers/local.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { ROOT, demoConfig } from '../helpers/config.js';

const config = demoConfig();
const iris = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'iris-predictions.json'), 'utf8')) as { inputs: number[][] };
/** Debian's Chromium, headless, with nothing reaching beyond this machine. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let dir: string;
let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-dashboard-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  const body = JSON.stringify({ client_request_id: 'dash-1', dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: iris.inputs } });
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
  }
  // Chat calls, whole and streamed: the chat endpoint's text metrics.
  for (const stream of [false, true, false]) {
    const res = await fetch(`${stack.server.url}/serving-endpoints/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'tell me about sepals' }], stream }),
    });
    expect(res.status).toBe(200);
    await res.text();
  }
  await stack.stream.flush();
  // Labels that make accuracy fall below the demo's floor of 0.8: an alert.
  await writeFile(join(dir, 'labels.csv'), ['client_request_id,row_index,label', ...iris.inputs.map((_, i) => `dash-1,${i},${i % 3}`)].join('\n'));
  const labels = await normalizeLabelsFile(join(dir, 'labels.csv'), 'iris');
  await new FileObjectStore(dir).put(labels.key, labels.body);
  await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The monitoring view of the endpoint page, loaded. */
async function monitoring(query: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${stack.server.url}/#/monitoring?${query}`);
  await page.waitForSelector('body[data-loaded="true"][data-view="monitoring"]', { timeout: 20_000 });
  return { page, errors };
}

/** The chart of a title in the monitoring view. */
const chartOf = (page: Page, title: string) => page.locator('#mon-charts figure', { has: page.locator('h4', { hasText: title }) });

describe("the monitoring view's series in Chromium (what /dashboard showed)", () => {
  it('draws volume, latency, errors, drift and quality with data, and lists the alerts', async () => {
    const { page, errors } = await monitoring('endpoint=iris&granularity=1%20day');
    for (const title of ['Volume', 'Model latency', 'Error rate', 'Drift', 'Quality']) {
      const figure = chartOf(page, title);
      expect(Number(await figure.getAttribute('data-points')), title).toBeGreaterThan(0);
      expect(await figure.locator('canvas').count(), title).toBe(1);
    }
    const alerts = await page.locator('#mon-alerts tbody tr').allTextContents();
    expect(alerts.some((t) => /quality.*accuracy_score/.test(t))).toBe(true);
    // The health the refresh recorded.
    expect(await page.locator('#mon-tables').textContent()).toMatch(/^Tables: ACTIVE \(checked [^)]+\)\. Every check passed at .* Last successful refresh: \d{4}-\d\d-\d\dT[\d:.]+Z\.$/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('draws the text metrics of an LLM endpoint, and none for a classic model', async () => {
    const { page } = await monitoring('endpoint=chat&granularity=1%20day');
    for (const title of ['Tokens', 'Speed', 'Answers']) {
      const figure = chartOf(page, title);
      expect(Number(await figure.getAttribute('data-points')), title).toBeGreaterThan(0);
      expect(await figure.locator('canvas').count(), title).toBe(1);
    }
    const series = (await (await fetch(`${stack.server.url}/dashboard/api/series?endpoint=chat&granularity=1%20day`)).json()) as { llm: Record<string, number[]> };
    // Echo answers with the prompt: 4 words each way, nothing empty, refused or cut.
    expect(series.llm).toMatchObject({ prompt_tokens: [4], completion_tokens: [4], empty_answer_rate: [0], refusal_rate: [0], truncated_rate: [0] });
    await page.goto(`${stack.server.url}/#/monitoring?endpoint=iris&granularity=1%20day`);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    await page.waitForSelector('#mon-charts figure');
    expect(await chartOf(page, 'Tokens').count()).toBe(0);
    await page.close();
  });

  it('shows capture health: records spilled and waiting, set aside, counted since start', async () => {
    const store = new FileObjectStore(dir);
    const key = '_spill/iris/2026-11-22/000000000000001-x.ndjson';
    const record = { request_id: 'spilled-1', endpoint: 'iris' };
    await store.put(key, `${JSON.stringify({ spilled_at_ms: 1, reason: 'test', record })}\n${JSON.stringify({ spilled_at_ms: 1, reason: 'test', record: { ...record, request_id: 'spilled-2' } })}\n`);
    try {
      const { page } = await monitoring('endpoint=iris');
      const line = page.locator('#mon-capture');
      expect(await line.textContent()).toBe('Capture: 2 records spilled and waiting for redrive, 0 set aside under errors/ with their reason; since start: 0 spilled, 0 redriven, 0 lost.');
      expect(await line.getAttribute('class')).toBe('alert-line');
      // The endpoints view says it too.
      await page.goto(`${stack.server.url}/#/endpoints`);
      await page.waitForSelector('body[data-loaded="true"][data-view="endpoints"]');
      expect(await page.locator('article[data-endpoint="iris"]').textContent()).toContain('Capture path2 spilled and waiting');
      await page.close();
    } finally {
      await store.delete([key]);
    }
  });

  it('says there is no data yet for an endpoint never refreshed, and switches endpoints', async () => {
    const { page } = await monitoring('endpoint=echo');
    expect(await chartOf(page, 'Quality').locator('.empty').textContent()).toMatch(/No data yet/);
    expect(await page.locator('#mon-window-body').textContent()).toMatch(/No metrics yet/);
    await page.selectOption('#mon-endpoint', 'iris');
    // The page's CSP forbids eval, so wait on what it draws rather than on a script.
    await chartOf(page, 'Volume').locator('canvas').waitFor({ timeout: 10_000 });
    expect(Number(await chartOf(page, 'Volume').getAttribute('data-points'))).toBeGreaterThan(0);
    await page.close();
  });

  it('sends /dashboard to the monitoring view, and answers its series API with clear JSON errors', async () => {
    const moved = await fetch(`${stack.server.url}/dashboard?endpoint=chat&granularity=1%20day&x=1`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(moved.headers.get('location')).toBe('/#/monitoring?endpoint=chat&granularity=1+day');
    const { page } = await monitoring('');
    await page.goto(`${stack.server.url}/dashboard?endpoint=chat`);
    await page.waitForSelector('body[data-loaded="true"][data-view="monitoring"]', { timeout: 20_000 });
    expect(await page.locator('#mon-endpoint').inputValue()).toBe('chat');
    await page.close();
    let res = await fetch(`${stack.server.url}/dashboard/api/series?endpoint=nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    res = await fetch(`${stack.server.url}/dashboard/api/series?endpoint=iris&granularity=2%20days`);
    expect(res.status).toBe(400);
    res = await fetch(`${stack.server.url}/dashboard/uplot.js`);
    expect(res.status).toBe(404);
    res = await fetch(`${stack.server.url}/dashboard`, { method: 'POST' });
    expect(res.status).toBe(405);
  });
});
