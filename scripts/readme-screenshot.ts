/**
 * Makes the README's picture of the endpoint page (`docs/endpoint-page.png`): the demo stack
 * on a fresh data folder, the README's requests (order-42 among them) and a refresh, then the
 * requests view with order-42 open, at 1280×800 in Debian's Chromium.
 *   node --import tsx scripts/readme-screenshot.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { FileObjectStore } from '../lambdas/adapters/local/file-object-store.js';
import { normalizeLabelsFile } from '../lambdas/adapters/local/labels-file.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';
import { runLocalRefresh, startLocalStack } from '../test/helpers/local.js';

const ROOT = join(import.meta.dirname, '..');

async function writeLabels(dir: string): Promise<string> {
  const file = join(dir, 'labels.csv');
  await writeFile(file, 'client_request_id,row_index,label\norder-42,0,0\norder-42,1,0\norder-42,2,1\n');
  return file;
}
const dataDir = await mkdtemp(join(tmpdir(), 'readme-shot-'));
const config = loadConfig('local', ROOT);
const stack = await startLocalStack({ config, dataDir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
try {
  const post = (body: unknown) => fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  for (let i = 0; i < 12; i++) await post({ client_request_id: `order-${30 + i}`, dataframe_split: { columns, data: [[5 + (i % 4) * 0.4, 3.1, 1.4 + i * 0.3, 0.2 + i * 0.1]] } });
  await post({ client_request_id: 'order-42', dataframe_split: { columns, data: [[5.1, 3.5, 1.4, 0.2], [4.9, 3, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] } });
  await post({ client_request_id: 'order-43', inputs: 'not a table' });
  await stack.stream.flush();
  // The labels learnt later for order-42's rows.
  const labels = await normalizeLabelsFile(await writeLabels(dataDir), 'iris');
  await new FileObjectStore(dataDir).put(labels.key, labels.body);
  await runLocalRefresh({ config, dataDir, projectRoot: ROOT });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const list = (await (await fetch(`${stack.server.url}/api/ui/requests?endpoint=iris&client_request_id=order-42`)).json()) as { rows: { request_id: string }[] };
  await page.goto(`${stack.server.url}/#/requests?endpoint=iris&id=${list.rows[0]?.request_id}`);
  await page.waitForSelector('body[data-loaded="true"]');
  // The list at the window's top; the inspector, which scrolls on its own, at its end: the answer and the unpacked rows with their labels.
  await page.locator('#view-requests .split').evaluate((split) => split.scrollIntoView());
  await page.locator('#inspector').evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await page.screenshot({ path: join(ROOT, 'docs', 'endpoint-page.png') });
  await browser.close();
} finally {
  await stack.close();
  await rm(dataDir, { recursive: true, force: true });
}
