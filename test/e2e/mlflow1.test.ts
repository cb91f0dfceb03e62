/**
 * A model version logged with MLflow 1.x (`scoring_protocol: mlflow1`; the demo's
 * iris-classifier version 4), called as the seed shows: its curl (a bare list of records, and
 * the tensor form), Power BI's script (batches of 256 records, `Json.FromValue(table)`), the
 * `format=pandas-split` content type; each answered with a bare list of predictions, captured
 * and unpacked. MLflow 2 requests that are wrong in ways users hit get MLflow's own answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const config = configWith(() => undefined);
const URI = '/model/iris-classifier/4/invocations';
const FLOWER = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
let dir: string;
let stack: LocalStack;

async function post(path: string, body: string, contentType = 'application/json'): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${stack.server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  // A 415 is MLflow's plain text.
  return { status: res.status, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-mlflow1-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a version logged with MLflow 1.x', () => {
  it("answers the seed's 1.x curl, a bare list of records and the tensor form, with a bare list of predictions", async () => {
    expect(await post(URI, JSON.stringify([FLOWER]))).toEqual({ status: 200, json: [0] });
    expect(await post(URI, '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}')).toEqual({ status: 200, json: [0] });
    const split = JSON.stringify({ columns: Object.keys(FLOWER), data: [Object.values(FLOWER), [6.7, 3.0, 5.2, 2.3]] });
    expect(await post(URI, split, 'application/json; format=pandas-split')).toEqual({ status: 200, json: [0, 2] });
    expect(await post(URI, 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n', 'text/csv')).toEqual({ status: 200, json: [0] });
  });

  it("answers Power BI's batches of 256 records with 256 predictions, in order", async () => {
    const rows = Array.from({ length: 256 }, (_, i) => (i % 2 === 0 ? FLOWER : { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 }));
    const answer = await post(URI, JSON.stringify(rows));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual(rows.map((_, i) => (i % 2 === 0 ? 0 : 2)));
  });

  it('refuses what is not 1.x, naming it', async () => {
    const records = await post(URI, '{"a": 1}', 'application/json; format=pandas-records');
    expect(records.status).toBe(400);
    expect(JSON.stringify(records.json)).toContain('format=pandas-records takes a JSON list of records');
    expect((await post(URI, '[]', 'application/json; format=pandas-splits')).status).toBe(415);
    // A key sent twice is refused as for MLflow 2 bodies, not read as one of its values.
    const twice = await post(URI, '[{"sepal_length": 5.1, "sepal_length": 9.9, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]');
    expect(twice.status).toBe(400);
    expect(JSON.stringify(twice.json)).toContain('sepal_length');
  });

  it('is captured as sent and unpacked by the refresh, row by row', async () => {
    await stack.stream.flush();
    const formats = await queryRows(dir, config, `SELECT request_format, count(*) AS n FROM iris_classifier_payload WHERE status_code = 200 GROUP BY 1 ORDER BY 1`);
    expect(formats).toEqual([
      { request_format: 'csv', n: 1 },
      { request_format: 'mlflow1_inputs', n: 1 },
      { request_format: 'pandas_records', n: 2 },
      { request_format: 'pandas_split', n: 1 },
    ]);
    const result = await runLocalRefresh({ config, dataDir: dir, endpoints: ['iris-classifier'] });
    expect(result.reports[0]).toMatchObject({ predictions: 1 + 1 + 2 + 1 + 256, rejected: 0 });
  });
});

describe('MLflow 2 requests users get wrong', () => {
  it('says when a body was serialized twice (a JSON string holding JSON)', async () => {
    const twice = JSON.stringify(JSON.stringify({ dataframe_records: [FLOWER] }));
    const answer = await post('/model/iris-classifier/2/invocations', twice);
    expect(answer.status).toBe(400);
    expect(JSON.stringify(answer.json)).toContain('serialized twice');
  });

  it("answers a dataframe_split whose index and data lengths differ with MLflow's own message", async () => {
    const body = JSON.stringify({ dataframe_split: { index: [0, 1, 2], columns: Object.keys(FLOWER), data: [Object.values(FLOWER)] } });
    const answer = await post('/model/iris-classifier/2/invocations', body);
    expect(answer.status).toBe(400);
    expect((answer.json as { message: string }).message).toContain("Provided dataframe_split field is not a valid dataframe representation in 'split' format");
  });
});
