import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { type CapturedRow, addSummary, emptySummary, unpackCapturedRows } from '../../lambdas/core/unpack-batch.js';
import { planRefresh, taskGroups } from '../../lambdas/workflow/plan.js';
import { demoConfig } from '../helpers/config.js';

const signature = demoConfig().models[0]!.versions[1]!.signature;
const iris = '"columns":["sepal_length","sepal_width","petal_length","petal_width"]';

let n = 0;
function captured(request: string | null, response: string | null, more: Partial<CapturedRow> = {}): CapturedRow {
  n += 1;
  return {
    request_id: `r-${n}`,
    client_request_id: `c-${n}`,
    timestamp_ms: Date.UTC(2026, 10, 2, 10, 30),
    status_code: 200,
    request,
    response,
    request_metadata: { model_name: 'iris-classifier', model_version: '2' },
    date: '2026-11-02',
    ...more,
  };
}

const lines = (predictions: readonly string[]) => predictions.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('unpackCapturedRows: staged predictions', () => {
  it('writes one JSON line per prediction: the request keys, the row index, the features, the prediction', () => {
    const row = captured(`{"dataframe_split":{${iris},"data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}}`, '{"predictions":[0,2]}');
    const { predictions, rejects, summary } = unpackCapturedRows([row], signature);
    expect(rejects).toEqual([]);
    expect(lines(predictions)).toEqual([
      {
        request_id: row.request_id,
        client_request_id: row.client_request_id,
        timestamp_ms: row.timestamp_ms,
        date: '2026-11-02',
        model_name: 'iris-classifier',
        model_version: '2',
        row_index: 0,
        sepal_length: 5.1,
        sepal_width: 3.5,
        petal_length: 1.4,
        petal_width: 0.2,
        prediction: 0,
        probabilities: null,
      },
      expect.objectContaining({ row_index: 1, sepal_length: 6.7, prediction: 2 }),
    ]);
    expect(summary).toMatchObject({ requests: 1, predictions: 2, rejected: 0, dates: ['2026-11-02'], max_timestamp_ms: row.timestamp_ms });
    expect(summary.features).toEqual({ sepal_length: 'DOUBLE', sepal_width: 'DOUBLE', petal_length: 'DOUBLE', petal_width: 'DOUBLE' });
  });

  it('keeps the probabilities a model returns, with the argmax as the prediction', () => {
    const { predictions } = unpackCapturedRows([captured('{"inputs":[[5.1,3.5,1.4,0.2]]}', '{"predictions":[[0.1,0.7,0.2]]}')], signature);
    expect(lines(predictions)[0]).toMatchObject({ prediction: 1, probabilities: [0.1, 0.7, 0.2] });
  });

  it('skips requests that did not succeed: they have no predictions', () => {
    const { predictions, rejects, summary } = unpackCapturedRows([captured('{"inputs":"x"}', '{"error_code":"BAD_REQUEST"}', { status_code: 400 })], signature);
    expect([predictions, rejects]).toEqual([[], []]);
    expect(summary).toMatchObject({ requests: 1, skipped_status: 1, predictions: 0, rejected: 0 });
  });

  it('rejects a whole request that cannot be unpacked, with the reason and no row index', () => {
    const rows = [
      captured(`{"dataframe_split":{${iris},"data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}}`, '{"predictions":[0]}'),
      captured(null, '{"predictions":[0]}'),
      captured('{"inputs":[[1,2,3,4]]}', 'not json'),
    ];
    const { predictions, rejects, summary } = unpackCapturedRows(rows, signature);
    expect(predictions).toEqual([]);
    expect(rejects.map((r) => [r.request_id, r.row_index, r.reason])).toEqual([
      [rows[0]!.request_id, null, '2 input rows but 1 predictions'],
      [rows[1]!.request_id, null, expect.stringContaining('request body not captured')],
      [rows[2]!.request_id, null, 'response is not JSON'],
    ]);
    expect(summary).toMatchObject({ requests: 3, rejected: 3, dates: ['2026-11-02'] });
  });
});

describe('unpackCapturedRows: a declared signature', () => {
  it('rejects the row whose value does not fit its declared type, and keeps the others', () => {
    const row = captured(`{"dataframe_split":{${iris},"data":[[5.1,3.5,1.4,0.2],["wide",3.0,5.2,2.3]]}}`, '{"predictions":[0,2]}');
    const { predictions, rejects, summary } = unpackCapturedRows([row], signature);
    expect(lines(predictions).map((p) => p.row_index)).toEqual([0]);
    expect(rejects).toEqual([expect.objectContaining({ row_index: 1, reason: `feature 'sepal_length' is declared DOUBLE but the request sent "wide"` })]);
    expect(summary.disagreements).toEqual({ "feature 'sepal_length' declared DOUBLE": 1 });
  });

  it('stores integers in a DOUBLE column: widening is not a lossy cast', () => {
    const { predictions, rejects } = unpackCapturedRows([captured(`{"dataframe_split":{${iris},"data":[[5,3,1,0]]}}`, '{"predictions":[0]}')], signature);
    expect(rejects).toEqual([]);
    expect(lines(predictions)[0]).toMatchObject({ sepal_length: 5, petal_width: 0 });
  });

  it('reports undeclared and missing features per row, and does not store the undeclared', () => {
    const request = '{"dataframe_records":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"colour":"blue"},{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"colour":"red"}]}';
    const { predictions, summary } = unpackCapturedRows([captured(request, '{"predictions":[0,2]}')], signature);
    expect(lines(predictions)).toHaveLength(2);
    expect(lines(predictions)[0]).not.toHaveProperty('colour');
    expect(summary.disagreements).toEqual({ "undeclared feature 'colour'": 2, "declared feature 'petal_width' missing": 2 });
  });

  it('rejects a prediction that does not fit the declared output type', () => {
    const { rejects, summary } = unpackCapturedRows([captured('{"inputs":[[5.1,3.5,1.4,0.2]]}', '{"predictions":["setosa"]}')], signature);
    expect(rejects[0]?.reason).toBe(`prediction is declared BIGINT but the model answered "setosa"`);
    expect(summary.disagreements).toEqual({ 'prediction declared BIGINT': 1 });
  });
});

describe('unpackCapturedRows: no signature', () => {
  it('infers each feature type, widened over every value seen', () => {
    const rows = [
      captured('{"dataframe_records":[{"a":1,"b":1,"c":true},{"a":2,"b":2.5,"c":null}]}', '{"predictions":["x","y"]}'),
      captured('{"dataframe_records":[{"a":3,"b":4,"c":"maybe"}]}', '{"predictions":["z"]}'),
    ];
    const { summary } = unpackCapturedRows(rows);
    expect(summary.features).toEqual({ a: 'BIGINT', b: 'DOUBLE', c: 'VARCHAR' });
    expect(summary.prediction_type).toBe('VARCHAR');
  });

  it('names columns for Glue and keeps the first of two features that would share a name', () => {
    const { predictions, summary } = unpackCapturedRows([captured('{"dataframe_records":[{"Sepal Length":1,"sepal_length":2,"2nd":3}]}', '{"predictions":[0]}')]);
    expect(lines(predictions)[0]).toMatchObject({ sepal_length: 1, f_2nd: 3 });
    expect(summary.disagreements).toEqual({ "feature 'sepal_length' has the column name of another feature": 1 });
  });

  it('stores nested values as JSON text', () => {
    const { predictions, summary } = unpackCapturedRows([captured('{"dataframe_records":[{"tags":["a","b"]}]}', '{"predictions":[{"label":"ok"}]}')]);
    expect(lines(predictions)[0]).toMatchObject({ tags: '["a","b"]', prediction: 'ok' });
    expect(summary.features).toEqual({ tags: 'VARCHAR' });
  });
});

describe('addSummary', () => {
  it('adds counts, widens types and unions dates', () => {
    const a = { ...emptySummary(), requests: 2, predictions: 3, features: { x: 'BIGINT' as const }, dates: ['2026-11-02'], max_timestamp_ms: 5, disagreements: { d: 1 } };
    const b = { ...emptySummary(), requests: 1, predictions: 1, features: { x: 'DOUBLE' as const, y: null }, dates: ['2026-11-01', '2026-11-02'], max_timestamp_ms: 3, disagreements: { d: 2 } };
    expect(addSummary(a, b)).toMatchObject({ requests: 3, predictions: 4, features: { x: 'DOUBLE', y: null }, dates: ['2026-11-01', '2026-11-02'], max_timestamp_ms: 5, disagreements: { d: 3 } });
  });
});

describe('taskGroups: payload files into unpack tasks', () => {
  const files = (...sizes: number[]) => sizes.map((size, i) => ({ key: `f${i}`, size }));

  it('cuts by file count and by bytes, in order', () => {
    const groups = taskGroups(files(10, 10, 10, 50, 10, 10, 10), 3, 40);
    expect(groups.map((g) => g.map((f) => f.key))).toEqual([['f0', 'f1', 'f2'], ['f3'], ['f4', 'f5', 'f6']]);
  });

  it('gives a file larger than the byte bound a task of its own', () => {
    expect(taskGroups(files(5, 100, 5), 10, 40).map((g) => g.length)).toEqual([1, 1, 1]);
  });

  it('makes no task without files', () => {
    expect(taskGroups([], 10, 40)).toEqual([]);
  });
});

describe('planRefresh: the state it passes stays small', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'it-plan-'));
    const folder = join(dir, 'iris_payload', 'endpoint=iris', 'date=2026-11-02');
    await mkdir(folder, { recursive: true });
    for (let i = 0; i < 10_500; i++) await writeFile(join(folder, `inference-tables-1-2026-11-02-10-00-00-${String(i).padStart(36, '0')}.parquet`), 'x');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plans at most max_tasks_per_run tasks, leaves the rest for the next run, and stays far under 256 KiB', async () => {
    const config = demoConfig();
    const plan = await planRefresh({ config, store: new FileObjectStore(dir), dialect: 'duckdb' }, { endpoints: null });
    expect(plan.tasks).toHaveLength(config.refresh.max_tasks_per_run);
    expect(plan.endpoints.find((e) => e.endpoint === 'iris')).toMatchObject({ files: 10_000, backlog: 500 });
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeLessThan(128 * 1024);
  });
});
