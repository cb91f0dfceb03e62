import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import type { QueryEngine, QueryResult } from '../../lambdas/core/ports.js';
import { emptySummary } from '../../lambdas/core/unpack-batch.js';
import { unpackInEngine } from '../../lambdas/workflow/engine-unpack.js';
import { runPrefix } from '../../lambdas/workflow/paths.js';
import { demoConfig } from '../helpers/config.js';
import { sample } from '../helpers/records.js';

/**
 * The engine's half of the unpack on AWS, with Athena at the network edge replaced by a
 * recorder: the statements it sends, in order, and what it makes of the answers.
 */

const config = demoConfig();
let dir: string;
let store: FileObjectStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-engine-unpack-'));
  store = new FileObjectStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A query engine that records every statement and answers the summary with these groups. */
function recorder(groups: Record<string, unknown>[]) {
  const sent: string[] = [];
  const engine: QueryEngine = {
    query: async (sql: string): Promise<QueryResult> => {
      sent.push(sql);
      return { columns: [], rows: sql.startsWith('SELECT CASE WHEN n_rows') ? groups : [] };
    },
    queryColumns: async () => ({ columns: [], data: [] }),
    close: () => undefined,
  };
  return { engine, sent };
}

const run = { run_id: '20261130T120000-abcd', started_at: '2026-11-30T12:00:00.000Z', endpoint: 'iris', files: 2, tasks: 1, backlog: 0 };

describe('the unpack in the engine, on Athena', () => {
  it('reads exactly the run\'s files of the payload table, stores its rows as Parquet under the run, then counts them', async () => {
    const files = ['iris_payload/endpoint=iris/date=2026-11-29/a.parquet', 'iris_payload/endpoint=iris/date=2026-11-30/b.parquet', 'iris_payload/endpoint=iris/date=2026-11-30/c.parquet'];
    await store.put(`${runPrefix(run.run_id, 'iris')}tasks/0.json`, JSON.stringify({ files: files.map((key) => ({ key, size: 10, lastModified: run.started_at })) }));
    const { engine, sent } = recorder([
      { date: '2026-11-30', hour: String(Date.UTC(2026, 10, 30, 11)), requests: '4', predictions: '9', max_timestamp_ms: String(Date.UTC(2026, 10, 30, 11, 30)) },
      { date: null, hour: null, requests: '1', predictions: '0', max_timestamp_ms: String(Date.UTC(2026, 10, 30, 11, 40)) },
    ]);
    const summary = { ...emptySummary(), engine_rows: 5, quarantined: [{ key: files[2] as string, quarantine: '_quarantine/x', reason: 'unreadable' }] };
    const tables = await unpackInEngine({ config, store, dialect: 'athena', database: 'inference_tables_dev', engine }, run, summary);

    expect(tables).toHaveLength(1);
    const [drop, create, count, leftovers] = sent;
    expect(drop).toBe(`DROP TABLE IF EXISTS ${tables[0]?.sql}`);
    expect(tables[0]?.sql).toBe('"inference_tables_dev"."iris_unpacked_engine_20261130t120000_abcd_0"');
    expect(create).toMatch(/^CREATE TABLE "inference_tables_dev"\."iris_unpacked_engine_20261130t120000_abcd_0" WITH \(format = 'PARQUET', write_compression = 'ZSTD', external_location = '[^']*_refresh\/runs\/20261130T120000-abcd\/iris\/engine\/[0-9a-f-]{36}\/'\) AS WITH /);
    // The quarantined file is left out; the partition filter prunes the listing.
    expect(create).toContain(`FROM "inference_tables_dev"."iris_payload" WHERE "date" IN ('2026-11-29', '2026-11-30') AND "$path" IN ('${store.location(files[0] as string)}', '${store.location(files[1] as string)}'))`);
    expect(count).toMatch(/^SELECT CASE WHEN n_rows > 0/);
    expect(leftovers).toMatch(/WHERE NOT clean$/);
    // Athena answers in text: the summary counts are numbers again.
    expect(summary).toMatchObject({ requests: 5, predictions: 9, dates: ['2026-11-30'], hours: [Date.UTC(2026, 10, 30, 11)], max_timestamp_ms: Date.UTC(2026, 10, 30, 11, 30), prediction_type: 'BIGINT' });
  });

  it('does nothing when the unpack tasks left it no row', async () => {
    const { engine, sent } = recorder([]);
    expect(await unpackInEngine({ config, store, dialect: 'athena', engine }, run, emptySummary())).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('fails loudly in a world that gave the step no engine', async () => {
    await expect(unpackInEngine({ config, store, dialect: 'athena' }, run, { ...emptySummary(), engine_rows: 1 })).rejects.toThrow(/needs the environment's query engine/);
  });

  it('hands the rows to the JavaScript unpacker when the engine fails, so a refresh never stops on it', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    const record = (i: number, format: string, request: string, response: string): CaptureRecord => ({
      ...sample,
      request_id: `r${i}`,
      timestamp_ms: sample.timestamp_ms + i,
      request,
      response,
      request_format: format,
      request_metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: '2' },
    });
    const columns = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    await stream.put([
      record(1, 'dataframe_split', JSON.stringify({ dataframe_split: { columns, data: [[1, 2, 3, 4], [5, 6, 7, 8]] } }), '{"predictions":[0,2]}'),
      record(2, 'instances', JSON.stringify({ instances: [[1, 2, 3, 4]] }), '{"predictions":[1]}'),
      record(3, 'dataframe_split', JSON.stringify({ dataframe_split: { columns, data: [['x', 2, 3, 4]] } }), '{"predictions":[1]}'),
    ]);
    await stream.close();
    const files = (await store.list('iris_payload/')).filter((o) => o.key.endsWith('.parquet'));
    await store.put(`${runPrefix(run.run_id, 'iris')}tasks/0.json`, JSON.stringify({ files: files.map((f) => ({ ...f, lastModified: f.lastModified.toISOString() })) }));
    const failing: QueryEngine = {
      query: async () => {
        throw new Error('Binder Error: the engine cannot do this');
      },
      queryColumns: async () => ({ columns: [], data: [] }),
      close: () => undefined,
    };
    const summary = { ...emptySummary(), engine_rows: 3 };
    expect(await unpackInEngine({ config, store, dialect: 'duckdb', engine: failing }, run, summary)).toEqual([]);
    // Every row the tasks left, unpacked in JavaScript: three predictions, and the mistyped one refused with its reason.
    expect(summary).toMatchObject({ requests: 3, predictions: 3, rejected: 1 });
    const staged = gunzipSync(await store.get(`${runPrefix(run.run_id, 'iris')}predictions/engine-fallback-0.jsonl.gz`) as Uint8Array).toString('utf8').trim().split('\n');
    expect(staged.map((l) => (JSON.parse(l) as { request_id: string; row_index: number }).request_id)).toEqual(['r1', 'r1', 'r2']);
  });
});
