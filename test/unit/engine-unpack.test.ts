import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import type { QueryEngine, QueryResult } from '../../lambdas/core/ports.js';
import { emptySummary } from '../../lambdas/core/unpack-batch.js';
import { unpackInEngine } from '../../lambdas/workflow/engine-unpack.js';
import { runPrefix } from '../../lambdas/workflow/paths.js';
import { demoConfig } from '../helpers/config.js';

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
});
