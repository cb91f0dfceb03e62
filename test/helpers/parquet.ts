import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { sample } from './records.js';

/** How DuckDB's Parquet schema spells each Glue type (physical type / converted type). */
export const PARQUET_OF_GLUE: Record<string, string> = {
  string: 'BYTE_ARRAY/UTF8',
  int: 'INT32/INT_32',
  bigint: 'INT64/INT_64',
  double: 'DOUBLE/',
  boolean: 'BOOLEAN/',
  timestamp: 'INT64/TIMESTAMP_MICROS',
  'map<string,string>': '/MAP',
  'array<string>': '/LIST',
};

/**
 * Delivers the sample record through the local delivery stream and reads back the schema of
 * the Parquet file it wrote: column name → `physical/converted` type.
 */
export async function localParquetSchema(): Promise<Map<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'it-schema-'));
  try {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.put([sample]);
    await stream.close();
    const partition = join(dir, 'iris_payload', 'endpoint=iris', 'date=2026-11-22');
    const [file] = await readdir(partition);
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    const reader = await db.runAndReadAll(
      `SELECT name, coalesce(type, '') || '/' || coalesce(converted_type, '') AS t FROM parquet_schema('${join(partition, file as string)}')`,
    );
    const schema = new Map(reader.getRowObjectsJson().map((r) => [String(r.name), String(r.t)]));
    db.closeSync();
    instance.closeSync();
    return schema;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
