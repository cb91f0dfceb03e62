/**
 * Writes the data folder a release leaves behind, for `test/e2e/previous-release.test.ts`:
 * captured requests of every input format (one refused, one to an unknown endpoint), chat and
 * embeddings, labels, and a refresh with its metrics. It imports the release's own modules, so
 * it runs in a checkout of that release, not in this tree:
 *
 *   git worktree add /tmp/rel <commit> && ln -s "$PWD/node_modules" /tmp/rel/node_modules
 *   cp scripts/make-release-fixture.ts /tmp/rel/ && (cd /tmp/rel && node --import tsx make-release-fixture.ts /tmp/out/data)
 *   cp -r /tmp/out/data test/fixtures/releases/<commit>
 *
 * The paths below are those of release 6a8e4a9 (2026-11-22).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from './lib/config.js';
import { startLocalStack } from './lambdas/wiring/local.js';
import { runLocalRefresh } from './lambdas/adapters/local/refresh-runner.js';
import { runCli } from './lambdas/cli/main.js';

const dir = process.argv[2] as string;
await rm(dir, { recursive: true, force: true });
const config = loadConfig('local');
const stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
const url = stack.server.url;
const post = (path: string, body: unknown, ct = 'application/json') => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': ct }, body: typeof body === 'string' ? body : JSON.stringify(body) }).then((r) => r.status);
const rows = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]];
const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const statuses: number[] = [];
for (let i = 0; i < 30; i++) {
  const r = rows[i % 3]!.map((v, j) => v + (i % 5) * 0.1 * (j + 1));
  const id = `release-${i}`;
  switch (i % 5) {
    case 0: statuses.push(await post('/serving-endpoints/iris/invocations', { client_request_id: id, dataframe_split: { columns: features, data: [r] } })); break;
    case 1: statuses.push(await post('/serving-endpoints/iris/invocations', { client_request_id: id, dataframe_records: [Object.fromEntries(features.map((f, j) => [f, r[j]]))] })); break;
    case 2: statuses.push(await post('/serving-endpoints/iris/invocations', { client_request_id: id, inputs: [r, r] })); break;
    case 3: statuses.push(await post('/model/iris-classifier/Production/invocations', { client_request_id: id, instances: [r] })); break;
    case 4: statuses.push(await post('/serving-endpoints/iris/invocations', `${features.join(',')}\n${r.join(',')}\n`, 'text/csv')); break;
  }
}
statuses.push(await post('/serving-endpoints/iris/invocations', { inputs: [['x', 1, 2, 3]] }));
statuses.push(await post('/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'hello there' }] }));
statuses.push(await post('/serving-endpoints/chat/invocations', { input: ['a', 'b'] }));
statuses.push(await post('/serving-endpoints/nope/invocations', { inputs: [[1]] }));
await stack.close();
const labels = join(dir, '..', 'labels.csv');
await writeFile(labels, `client_request_id,label\n${Array.from({ length: 30 }, (_, i) => `release-${i},${i % 3}`).join('\n')}\n`);
const code = await runCli(['node', 'inference-tables', 'labels', 'upload', labels, '--endpoint', 'iris', '--data-dir', dir], () => undefined);
const result = await runLocalRefresh({ config, dataDir: dir });
console.log(JSON.stringify({ statuses, labels: code, reports: result.reports.map((r) => ({ e: r.endpoint, files: r.files, predictions: r.predictions, rejected: r.rejected })) }));
