import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_OUTPUT_DIR, LocalDeliveryStream, STAGING_DIR } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { sample } from '../helpers/records.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-stream-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const rec = (id: string, over: Partial<CaptureRecord> = {}): CaptureRecord => ({ ...sample, request_id: id, ...over });

async function count(table: string): Promise<number> {
  const engine = await LocalQueryEngine.open(dir);
  try {
    return Number((await engine.query(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n);
  } finally {
    engine.close();
  }
}

async function files(sub: string): Promise<string[]> {
  return (await readdir(join(dir, sub), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
}

describe('Local delivery stream', () => {
  it('delivers nothing before the buffer is full or flushed', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.put([rec('a')]);
    expect(await files('.')).toEqual([]);
    await stream.close();
    expect(await count('iris_payload')).toBe(1);
  });

  it('delivers when the buffered size reaches the limit', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 2000 });
    for (let i = 0; i < 10; i++) await stream.put([rec(`r${i}`)]);
    await new Promise((r) => setTimeout(r, 300));
    expect((await files('iris_payload')).length).toBeGreaterThan(0);
    await stream.close();
    expect(await count('iris_payload')).toBe(10);
  });

  it('partitions by endpoint and the record date, one table per endpoint', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.put([rec('a'), rec('b', { date: '2026-11-23', request_time: '2026-11-23 00:00:00.000' }), rec('c', { endpoint: 'iris-classifier' })]);
    await stream.close();
    const iris = await files('iris_payload');
    expect(iris.map((f) => f.split('/').slice(0, 2).join('/'))).toEqual(['endpoint=iris/date=2026-11-22', 'endpoint=iris/date=2026-11-23']);
    expect(iris.every((f) => /\/inference-tables-1-\d{4}(-\d\d){5}-[0-9a-f-]{36}\.parquet$/.test(f))).toBe(true);
    expect(await files('iris_classifier_payload')).toHaveLength(1);
  });

  it('writes records that do not fit the columns under the error prefix, with the reason', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.put([rec('good'), { ...rec('bad'), status_code: 'x' as unknown as number }]);
    await stream.close();
    const [day] = await readdir(join(dir, ERROR_OUTPUT_DIR));
    const [file] = await readdir(join(dir, ERROR_OUTPUT_DIR, day as string));
    const doc = JSON.parse(await readFile(join(dir, ERROR_OUTPUT_DIR, day as string, file as string), 'utf8'));
    expect(doc.errorMessage).toBe('status_code: not a int');
    expect(JSON.parse(Buffer.from(doc.rawData, 'base64').toString()).request_id).toBe('bad');
    expect(stream.failedConversion).toBe(1);
    expect(await count('iris_payload')).toBe(1);
  });

  it('delivers a segment left behind by a stopped process when it opens again', async () => {
    await readdir(dir);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, STAGING_DIR), { recursive: true });
    await writeFile(join(dir, STAGING_DIR, '000000000000001-left.ndjson'), `${JSON.stringify(rec('left-1'))}\n${JSON.stringify(rec('left-2'))}\n`);
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    expect(stream.delivered).toBe(2);
    await stream.close();
    expect(await readdir(join(dir, STAGING_DIR))).toEqual([]);
    expect(await count('iris_payload')).toBe(2);
  });

  it('accepts concurrent puts without losing or mixing records', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 5, bufferSizeBytes: 4096 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => stream.put([rec(`c${i}`)])));
    await stream.close();
    expect(await count('iris_payload')).toBe(300);
  });
});
