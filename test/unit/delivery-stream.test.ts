import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataFolderBusyError, LocalDeliveryStream, STAGING_DIR } from '../../lambdas/adapters/local/delivery-stream.js';
import { ERROR_OUTPUT_DIR } from '../../lambdas/adapters/local/parquet-delivery.js';
import { recoverSegmentText } from '../../lambdas/adapters/local/staging-log.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { captureHealth } from '../../lambdas/adapters/local/capture-health.js';
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

  it('drops a torn final line of a leftover segment and delivers the lines before it', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, STAGING_DIR), { recursive: true });
    const whole = `${JSON.stringify(rec('w-1'))}\n${JSON.stringify(rec('w-2'))}\n`;
    const torn = JSON.stringify(rec('torn')).slice(0, 40);
    await writeFile(join(dir, STAGING_DIR, '000000000000001-crash.ndjson'), whole + torn);
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    expect(stream.recovered).toEqual({ segments: 1, records: 2, tornBytes: 40, unreadable: 0 });
    await stream.close();
    expect(await count('iris_payload')).toBe(2);
    expect(await readdir(join(dir, STAGING_DIR))).toEqual([]);
  });

  it('moves an unreadable line of a leftover segment to the error prefix instead of blocking delivery', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, STAGING_DIR), { recursive: true });
    await writeFile(join(dir, STAGING_DIR, '000000000000001-bad.ndjson'), `${JSON.stringify(rec('ok-1'))}\n{"request_id": \n[1,2]\n${JSON.stringify(rec('ok-2'))}\n`);
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    expect(stream.recovered.unreadable).toBe(2);
    await stream.close();
    expect(await count('iris_payload')).toBe(2);
    const [day] = await readdir(join(dir, ERROR_OUTPUT_DIR));
    const [file] = await readdir(join(dir, ERROR_OUTPUT_DIR, day as string));
    const docs = (await readFile(join(dir, ERROR_OUTPUT_DIR, day as string, file as string), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(docs.map((d) => [d.errorCode, Buffer.from(d.rawData, 'base64').toString()])).toEqual([
      ['Staging.UnreadableLine', '{"request_id": '],
      ['Staging.UnreadableLine', '[1,2]'],
    ]);
  });

  it('recovers an empty or wholly torn segment by removing it', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, STAGING_DIR), { recursive: true });
    await writeFile(join(dir, STAGING_DIR, '000000000000001-a.ndjson'), '');
    await writeFile(join(dir, STAGING_DIR, '000000000000002-b.ndjson'), '{"request_id":"x"');
    await writeFile(join(dir, STAGING_DIR, '000000000000002-b.ndjson.tmp'), 'half a rewrite');
    await writeFile(join(dir, STAGING_DIR, '5d2c-half.parquet.tmp'), 'PAR1 half a Parquet file');
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    expect(stream.recovered).toEqual({ segments: 2, records: 0, tornBytes: 17, unreadable: 0 });
    expect(await readdir(join(dir, STAGING_DIR))).toEqual(['LOCK']);
    await stream.close();
  });

  it('splits segment text into kept lines, a torn tail and unreadable lines', () => {
    expect(recoverSegmentText('{"a":1}\n{"b":2}\n{"c"')).toEqual({ kept: '{"a":1}\n{"b":2}\n', records: 2, tornBytes: 4, unreadable: [] });
    expect(recoverSegmentText('{"a":1}\n\n"s"\n')).toEqual({ kept: '{"a":1}\n', records: 1, tornBytes: 0, unreadable: ['"s"'] });
    expect(recoverSegmentText('é{')).toEqual({ kept: '', records: 0, tornBytes: 3, unreadable: [] });
  });

  it('sets aside a record the Parquet conversion cannot read, and delivers the others', async () => {
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    // JSON.stringify writes an unpaired surrogate as an escape that DuckDB refuses to read.
    await stream.put([rec('good-1'), rec('poison', { client_request_id: '\ud800' }), rec('good-2')]);
    await stream.close();
    expect(await count('iris_payload')).toBe(2);
    expect(stream.failedConversion).toBe(1);
    const [day] = await readdir(join(dir, ERROR_OUTPUT_DIR));
    const [file] = await readdir(join(dir, ERROR_OUTPUT_DIR, day as string));
    const doc = JSON.parse(await readFile(join(dir, ERROR_OUTPUT_DIR, day as string, file as string), 'utf8'));
    expect(doc.errorCode).toBe('DataFormatConversion.Unreadable');
    expect(JSON.parse(Buffer.from(doc.rawData, 'base64').toString()).request_id).toBe('poison');
    // The dashboard's capture line counts it for its endpoint, and for no other.
    expect((await captureHealth(dir, 'iris')).set_aside).toBe(1);
    expect((await captureHealth(dir, 'chat')).set_aside).toBe(0);
  });

  it('refuses a second stream on a data folder in use, and takes over the lock of a process that died', async () => {
    const first = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await expect(LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 })).rejects.toBeInstanceOf(DataFolderBusyError);
    await first.close();
    // A lock naming a live process (this test's parent) refuses; one naming a dead process does not.
    await writeFile(join(dir, STAGING_DIR, 'LOCK'), `${process.ppid}\n`);
    await expect(LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 })).rejects.toThrow(`in use by process ${process.ppid}`);
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    await writeFile(join(dir, STAGING_DIR, 'LOCK'), `${dead.pid}\n`);
    const second = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await second.close();
  });

  it('keeps every acknowledged record across kill -9 at arbitrary moments', async () => {
    const acked = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../helpers/wal-writer.ts'), dir, `k${round}`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buffered = '';
      let roundAcks = 0;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) if (line.startsWith('ACK ')) acked.add(line.slice(4));
          roundAcks += lines.length;
          // Different moments each round: mid-write, mid-delivery, after many segments.
          if (roundAcks >= 200 + round * 150) resolve();
        });
        child.once('exit', () => resolve());
      });
      child.kill('SIGKILL');
      await exited;
    }
    expect(acked.size).toBeGreaterThanOrEqual(3 * 200);
    const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    await stream.close();
    const engine = await LocalQueryEngine.open(dir);
    try {
      const rows = (await engine.query('SELECT DISTINCT request_id FROM iris_payload')).rows.map((r) => String(r.request_id));
      const present = new Set(rows);
      expect([...acked].filter((id) => !present.has(id))).toEqual([]);
    } finally {
      engine.close();
    }
  }, 60_000);
});
