import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { LabelsFileError, normalizeLabelsFile } from '../../lambdas/adapters/local/labels-file.js';
import { RefreshFailedError } from '../../lambdas/core/refresh-steps.js';
import { runLocalRefresh } from '../helpers/local.js';
import { readEndpointState } from '../../lambdas/workflow/steps.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { demoConfig } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';

const config = demoConfig();
let dir: string;
let stack: LocalStack;

async function score(body: string, contentType = 'application/json') {
  const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: res.status, text: await res.text() };
}

const rows = (sql: string) => queryRows(dir, config, sql);

async function uploadLabels(name: string, text: string) {
  const path = join(dir, name);
  await writeFile(path, text);
  const labels = await normalizeLabelsFile(path, 'iris');
  await new FileObjectStore(dir).put(labels.key, labels.body);
  return labels;
}

const iris = (endpoint = 'iris') => runLocalRefresh({ config, dataDir: dir, endpoints: [endpoint] });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-refresh-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  const columns = '"columns":["sepal_length","sepal_width","petal_length","petal_width"]';
  expect((await score(`{"client_request_id":"batch-1","dataframe_split":{${columns},"data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3],[5.9,3.0,4.2,1.5]]}}`)).status).toBe(200);
  expect((await score('{"client_request_id":"one-1","dataframe_records":[{"sepal_length":5.0,"sepal_width":3.4,"petal_length":1.5,"petal_width":0.2}]}')).status).toBe(200);
  expect((await score('{"client_request_id":"tensor-1","instances":[[6.3,3.3,6.0,2.5]]}')).status).toBe(200);
  expect((await score('sepal_length,sepal_width,petal_length,petal_width\n5.8,2.7,5.1,1.9\n', 'text/csv')).status).toBe(200);
  expect((await score('{"client_request_id":"bad-1","inputs":"not rows"}')).status).toBe(400);
  const chat = await fetch(`${stack.server.url}/serving-endpoints/chat/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"client_request_id":"chat-1","messages":[{"role":"user","content":"How tall is a sepal?"}]}',
  });
  expect(chat.status).toBe(200);
  await stack.stream.flush();
  await uploadLabels('labels.csv', 'client_request_id,row_index,label\nbatch-1,0,0\nbatch-1,1,2\nbatch-1,2,2\n');
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('refresh: unpack and labels on the local stack', () => {
  it('unpacks one typed row per prediction, with its label', async () => {
    const result = await iris();
    const report = result.reports.find((r) => r.endpoint === 'iris');
    expect(report).toMatchObject({ requests: 5, predictions: 6, skipped_status: 1, rejected: 0 });
    const unpacked = await rows(
      'SELECT client_request_id, row_index, sepal_length, petal_width, prediction, label, model_id, typeof(sepal_length) AS t FROM iris_unpacked ORDER BY "timestamp", row_index',
    );
    expect(unpacked).toHaveLength(6);
    expect(unpacked.slice(0, 3)).toEqual([
      { client_request_id: 'batch-1', row_index: 0, sepal_length: 5.1, petal_width: 0.2, prediction: 0, label: 0, model_id: expect.stringMatching(/^iris-classifier\//), t: 'double' },
      { client_request_id: 'batch-1', row_index: 1, sepal_length: 6.7, petal_width: 2.3, prediction: 2, label: 2, model_id: expect.any(String), t: 'double' },
      { client_request_id: 'batch-1', row_index: 2, sepal_length: 5.9, petal_width: 1.5, prediction: 1, label: 2, model_id: expect.any(String), t: 'double' },
    ]);
    expect(unpacked.map((r) => r.client_request_id)).toEqual(['batch-1', 'batch-1', 'batch-1', 'one-1', 'tensor-1', null]);
    // The proxy records each request's format; the engine unpacked the four answered 200 (JSON, and CSV of doubles).
    expect(await rows('SELECT request_format, count(*) AS n FROM iris_payload GROUP BY 1 ORDER BY 1 NULLS LAST')).toEqual([
      { request_format: 'csv', n: 1 },
      { request_format: 'dataframe_records', n: 1 },
      { request_format: 'dataframe_split', n: 1 },
      // Read as `inputs`, then refused by the model (400): not the engine's to unpack.
      { request_format: 'inputs', n: 1 },
      { request_format: 'instances', n: 1 },
    ]);
    const full = JSON.parse(await readFile(report?.report as string, 'utf8')) as { engine_rows: number };
    expect(full.engine_rows).toBe(4);
  });

  it('changes nothing when run again with no new data', async () => {
    const before = await rows('SELECT * FROM iris_unpacked ORDER BY request_id, row_index');
    const state = await readEndpointState(new FileObjectStore(dir), 'iris');
    const result = await iris();
    expect(result.reports[0]).toMatchObject({ files: 0, predictions: 0 });
    expect(await rows('SELECT * FROM iris_unpacked ORDER BY request_id, row_index')).toEqual(before);
    expect((await readEndpointState(new FileObjectStore(dir), 'iris')).files_through).toBe(state.files_through);
  });

  it('attaches a label uploaded later, and marks its window for recomputation', async () => {
    await uploadLabels('late.jsonl', '{"client_request_id":"one-1","label":0}\n{"client_request_id":"batch-1","row_index":2,"label":1}\n');
    await iris();
    const labelled = await rows("SELECT client_request_id, row_index, label FROM iris_unpacked WHERE client_request_id IN ('one-1', 'batch-1') ORDER BY 1, 2");
    // The latest label of a key wins: batch-1 row 2 was 2, is now 1.
    expect(labelled.map((r) => r.label)).toEqual([0, 2, 1, 0]);
    const marked = await rows("SELECT DISTINCT reason FROM iris_recompute_windows");
    expect(marked).toEqual([{ reason: 'late_label' }]);
  });

  it('keeps one row for a capture record delivered twice', async () => {
    const [file] = (await new FileObjectStore(dir).list('iris_payload/')).filter((o) => o.key.endsWith('.parquet'));
    const copy = (file?.key as string).replace(/\.parquet$/, '-redelivered.parquet');
    await new FileObjectStore(dir).put(copy, await readFile(join(dir, file?.key as string)));
    const result = await iris();
    expect(result.reports[0]).toMatchObject({ files: 1, requests: 5 });
    expect(await rows('SELECT count(*) AS n, count(DISTINCT request_id || CAST(row_index AS VARCHAR)) AS d FROM iris_unpacked')).toEqual([{ n: 6, d: 6 }]);
  });

  it('keeps a request that cannot be unpacked aside, with the reason', async () => {
    // A 200 answer whose predictions do not match the rows: captured by another proxy, say.
    const store = new FileObjectStore(dir);
    const before = await rows('SELECT count(*) AS n FROM iris_unpack_errors');
    expect(before).toEqual([{ n: 0 }]);
    const now = Date.now();
    await stack.stream.put([
      {
        request_id: 'odd-1', client_request_id: 'odd', timestamp_ms: now, request_time: new Date(now).toISOString().replace('T', ' ').replace('Z', ''),
        status_code: 200, sampling_fraction: 1, execution_time_ms: 1, request: '{"inputs":[[1,2,3,4],[1,2,3,4]]}', response: '{"predictions":[0]}',
        request_metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: '2' }, served_entity_id: 'x', logging_error_codes: [], requester: null,
        endpoint: 'iris', date: new Date(now).toISOString().slice(0, 10),
      },
    ]);
    await stack.stream.flush();
    expect((await store.list('iris_payload/')).length).toBeGreaterThan(1);
    const result = await iris();
    expect(result.reports[0]).toMatchObject({ rejected: 1, predictions: 0 });
    expect(await rows('SELECT request_id, reason FROM iris_unpack_errors')).toEqual([{ request_id: 'odd-1', reason: '2 input rows but 1 predictions' }]);
  });

  it('records a failed run and leaves the watermark where it was', async () => {
    const before = await readEndpointState(new FileObjectStore(dir), 'iris');
    await score('{"client_request_id":"later-1","inputs":[[5.1,3.5,1.4,0.2]]}');
    await stack.stream.flush();
    const failing = runLocalRefresh({ config, dataDir: dir, endpoints: ['iris'], stepOverrides: { RunStatement: async () => Promise.reject(new Error('engine down')) } });
    await expect(failing).rejects.toThrow(RefreshFailedError);
    await expect(failing).rejects.toThrow(/^Refresh failed: iris: engine down\./);
    expect(await readEndpointState(new FileObjectStore(dir), 'iris')).toEqual(before);
    // The endpoint's failure is recorded until one of its commits succeeds.
    expect(JSON.parse(await readFile(join(dir, '_refresh', 'state', 'iris.failure.json'), 'utf8'))).toMatchObject({ endpoint: 'iris', cause: expect.stringContaining('engine down') });
    // The next run picks the request up, and the failure record goes.
    expect((await iris()).reports[0]).toMatchObject({ predictions: 1 });
    await expect(readFile(join(dir, '_refresh', 'state', 'iris.failure.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('unpacks a chat request into one row: the user message and the answer', async () => {
    const result = await runLocalRefresh({ config, dataDir: dir, endpoints: ['chat'] });
    expect(result.reports[0]).toMatchObject({ endpoint: 'chat', requests: 1, predictions: 1, rejected: 0 });
    expect(await rows('SELECT client_request_id, row_index, input, prediction, total_tokens FROM chat_unpacked')).toEqual([
      { client_request_id: 'chat-1', row_index: 0, input: 'How tall is a sepal?', prediction: 'How tall is a sepal?', total_tokens: 10 },
    ]);
  });

  it('refuses a labels file without the key columns, naming them', async () => {
    const path = join(dir, 'nokey.csv');
    await writeFile(path, 'id,y\n1,2\n');
    await expect(normalizeLabelsFile(path, 'iris')).rejects.toThrow(LabelsFileError);
    await expect(normalizeLabelsFile(path, 'iris')).rejects.toThrow(/no 'client_request_id' or 'label' column \(it has: id, y\)/);
  });
});
