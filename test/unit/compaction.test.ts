import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compactTable } from '../../lambdas/adapters/local/compaction.js';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { openDuckDb } from '../../lambdas/adapters/local/duckdb.js';
import { CompactionManifestError, visiblePayloadPaths } from '../../lambdas/adapters/local/payload-files.js';
import { payloadViewSql, readablePayloadViewSql } from '../../lambdas/adapters/local/warehouse.js';
import { sample } from '../helpers/records.js';

const PARTITION = join('iris_payload', 'endpoint=iris', 'date=2026-11-22');
let dir: string;
let db: { instance: DuckDBInstance; connection: DuckDBConnection };
const always = { eligible: () => true, graceMs: 0, targetBytes: 1 << 30 };

/** Delivers `files` files of `per` records each. */
async function deliver(files: number, per: number, from = 0): Promise<void> {
  const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  for (let f = 0; f < files; f++) {
    await stream.put(Array.from({ length: per }, (_, i) => ({ ...sample, request_id: `r${from + f * per + i}` })));
    await stream.flush();
  }
  await stream.close();
}
const parquetFiles = async () => (await readdir(join(dir, PARTITION))).filter((f) => f.endsWith('.parquet')).sort();
const read = async () => {
  await db.connection.run(payloadViewSql(dir, 'iris_payload', true));
  return (await db.connection.runAndReadAll('SELECT request_id FROM iris_payload ORDER BY request_id')).getRows().map((r) => String(r[0]));
};
const schemaOf = async (file: string) =>
  (await db.connection.runAndReadAll(`SELECT name, type, converted_type, logical_type FROM parquet_schema('${join(dir, PARTITION, file)}') ORDER BY name`)).getRowObjectsJson();

beforeAll(async () => {
  db = await openDuckDb();
});
afterAll(() => {
  db.connection.closeSync();
  db.instance.closeSync();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-compaction-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compactTable', () => {
  it('replaces a partition’s files with one of the same Parquet schema, hiding the replaced ones until they are deleted', async () => {
    await deliver(5, 3);
    const [first] = await parquetFiles();
    const ids = await read();
    expect(visiblePayloadPaths(join(dir, 'iris_payload'))).toBeUndefined();
    const report = await compactTable(db.connection, dir, 'iris_payload', always);
    expect(report).toMatchObject({ partitions: 1, replaced: 5, rows: 15, deleted: 0 });
    expect(await parquetFiles()).toHaveLength(6);
    expect(visiblePayloadPaths(join(dir, 'iris_payload'))).toHaveLength(1);
    expect(await read()).toEqual(ids);
    const compacted = (await parquetFiles()).find((f) => f.startsWith('compacted-')) as string;
    // Athena reads both with the Glue table's schema: the types must be the delivery's.
    expect(await schemaOf(compacted)).toEqual(await schemaOf(first as string));
    // The next run deletes them (no grace here) and has nothing to merge.
    expect(await compactTable(db.connection, dir, 'iris_payload', always)).toMatchObject({ partitions: 0, deleted: 5 });
    expect(await parquetFiles()).toEqual([compacted]);
    expect(await read()).toEqual(ids);
  });

  it('merges a compacted file with new files once its own replaced files are gone, and stops merging it at the target size', async () => {
    await deliver(3, 2);
    await compactTable(db.connection, dir, 'iris_payload', always);
    await deliver(2, 2, 100);
    // Its replaced files are still there (deleted at the start of this run, with no grace): merged now.
    expect(await compactTable(db.connection, dir, 'iris_payload', always)).toMatchObject({ deleted: 3, partitions: 1, replaced: 3, rows: 10 });
    await deliver(2, 2, 200);
    expect(await compactTable(db.connection, dir, 'iris_payload', { ...always, targetBytes: 1 })).toMatchObject({ deleted: 3, partitions: 1, replaced: 2, rows: 4 });
    expect(await read()).toHaveLength(14);
    expect(new Set(await read()).size).toBe(14);
  });

  it('compacts only eligible files, and leaves a file that cannot be read in place, naming it', async () => {
    await deliver(4, 1);
    const files = await parquetFiles();
    await writeFile(join(dir, PARTITION, files[3] as string), 'PAR1 not parquet');
    const report = await compactTable(db.connection, dir, 'iris_payload', { ...always, eligible: (endpoint) => endpoint === 'iris' });
    expect(report).toMatchObject({ replaced: 3, rows: 3, unreadable: [`endpoint=iris/date=2026-11-22/${files[3]}`] });
    expect(await compactTable(db.connection, dir, 'iris_payload', { ...always, eligible: () => false })).toMatchObject({ partitions: 0, replaced: 0 });
  });

  it('says which manifest cannot be read, and how to fix it, rather than showing rows twice', async () => {
    await deliver(2, 1);
    await compactTable(db.connection, dir, 'iris_payload', { ...always, graceMs: 3_600_000 });
    const [manifest] = await readdir(join(dir, 'iris_payload', '_compaction'));
    await writeFile(join(dir, 'iris_payload', '_compaction', manifest as string), '{"version":');
    expect(() => visiblePayloadPaths(join(dir, 'iris_payload'))).toThrow(CompactionManifestError);
    expect(() => visiblePayloadPaths(join(dir, 'iris_payload'))).toThrow(/cannot be read .*the files its compacted file replaces are unknown/);
    // Queries of the table fail with that message; other tables stay readable.
    await db.connection.run(readablePayloadViewSql(dir, 'iris_payload', true));
    await expect(db.connection.run('SELECT count(*) FROM iris_payload')).rejects.toThrow(/compaction manifest .* cannot be read/);
    await db.connection.run(readablePayloadViewSql(dir, 'chat_payload', true));
    expect((await db.connection.runAndReadAll('SELECT count(*) FROM chat_payload')).getRows()[0]?.[0]).toBe(0n);
  });
});
