/**
 * `npm run bench`, the endpoint page: how long each view takes to show its data in Chromium
 * over 10,000 captured requests (refreshed, so the unpacked and metrics tables exist), from
 * navigation to the page saying it has loaded; medians of `BENCH_ROUNDS` (5) loads each.
 *   baseline  the SQL view with no query: the page, its scripts and its menus, no table read;
 *   peer      DuckDB alone running the requests view's query over the same Parquet files, in
 *             process: what reading the data costs with no server, translation or browser.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { chromium } from 'playwright-core';
import { LocalDeliveryStream } from '../lambdas/adapters/local/delivery-stream.js';
import type { CaptureRecord } from '../lambdas/core/capture-record.js';
import { runLocalRefresh, startLocalStack } from '../test/helpers/local.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';
import { irisRecord } from './records.js';

const REQUESTS = Number(process.env.BENCH_UI_REQUESTS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROOT = join(import.meta.dirname, '..');
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function generate(dataDir: string): Promise<void> {
  const stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: 16 * 1024 * 1024 });
  // The last day, so the page's windows are today's and yesterday's.
  const start = Date.now() - 86_400_000;
  let seed = 7;
  const next = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < REQUESTS; i += 1000) {
    const batch: CaptureRecord[] = [];
    for (let j = i; j < Math.min(i + 1000, REQUESTS); j++) {
      const rows = Array.from({ length: 1 + (j % 3) }, () => FEATURES.map((_, k) => Math.round((1 + next() * (k < 2 ? 6 : 3)) * 10) / 10));
      const body = JSON.stringify({ dataframe_split: { columns: FEATURES, data: rows } });
      batch.push(irisRecord(j, { clientRequestId: `order-${j}`, receivedAtMs: start + Math.floor((j / REQUESTS) * 86_400_000), body, response: JSON.stringify({ predictions: rows.map(() => 0) }), format: 'dataframe_split' }));
    }
    await stream.put(batch);
  }
  await stream.close();
}

async function main(): Promise<void> {
  // BENCH_UI_DIR keeps the generated folder for profiling (made on the first run).
  const kept = process.env.BENCH_UI_DIR;
  const dataDir = kept ?? (await mkdtemp(join(tmpdir(), 'bench-ui-')));
  const config = loadConfig('local', ROOT);
  try {
    if (!kept || !existsSync(join(kept, 'iris_payload'))) {
      await generate(dataDir);
      await runLocalRefresh({ config, dataDir, projectRoot: ROOT });
    }
    const stack = await startLocalStack({ config, dataDir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    const views: [string, string][] = [
      ['endpoints', '/'],
      ['requests (latest 50)', '/#/requests?endpoint=iris'],
      ['requests by client_request_id', `/#/requests?endpoint=iris&client_request_id=order-${REQUESTS - 17}`],
      ['request inspector', ''],
      ['SQL console (GROUP BY over the payload)', `/#/sql?q=${encodeURIComponent('SELECT status_code, count(*) FROM iris_payload GROUP BY 1')}`],
      ['monitoring (series, window, column)', '/#/monitoring?endpoint=iris&granularity=1%20hour'],
      ['baseline: the page with no table read (SQL view, empty)', '/#/sql'],
    ];
    const list = (await (await fetch(`${stack.server.url}/api/ui/requests?endpoint=iris&page_size=1`)).json()) as { rows: { request_id: string }[] };
    (views[3] as [string, string])[1] = `/#/requests?endpoint=iris&id=${list.rows[0]?.request_id}`;
    const results: [string, number][] = [];
    for (const [name, path] of views) {
      const times: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const t0 = performance.now();
        await page.goto(stack.server.url + path);
        await page.waitForSelector('body[data-loaded="true"]', { timeout: 60_000 });
        times.push(performance.now() - t0);
        await page.close();
      }
      results.push([name, median(times)]);
    }
    await browser.close();
    await stack.close();
    // The peer: DuckDB alone, the requests view's query on the payload files.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const peer: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      await conn.runAndReadAll(
        `SELECT request_id, client_request_id, request_time, status_code FROM read_parquet('${dataDir}/iris_payload/**/*.parquet', hive_partitioning = true) WHERE client_request_id = 'order-${REQUESTS - 17}' ORDER BY timestamp_ms DESC LIMIT 51`,
      );
      peer.push(performance.now() - t0);
    }
    conn.closeSync();
    results.push(['peer: DuckDB alone, the find-by-id query', median(peer)]);
    process.stdout.write(`\nEndpoint page over ${REQUESTS.toLocaleString('en')} requests (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), medians of ${ROUNDS} loads in Chromium:\n\n`);
    process.stdout.write('| view | ms to loaded |\n| --- | ---: |\n');
    for (const [name, ms] of results) process.stdout.write(`| ${name} | ${ms.toFixed(0)} |\n`);
  } finally {
    if (!kept) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
