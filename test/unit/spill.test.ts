import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EmfPublisher } from '../../lambdas/adapters/aws/emf-publisher.js';
import { FirehoseSink } from '../../lambdas/adapters/aws/firehose-sink.js';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { CaptureCounters } from '../../lambdas/adapters/local/capture-counters.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { CaptureSinkError } from '../../lambdas/core/ports.js';
import { CaptureLostError, CaptureMetric, SPILL_PREFIX, SpillingSink, redriveSpilled } from '../../lambdas/core/spill.js';
import { createScoringHandler } from '../../lambdas/scoring/handler.js';
import type { ScoringContext } from '../../lambdas/scoring/middleware.js';
import { createBackendFactory } from '../../lambdas/backends/factory.js';
import { demoConfig } from '../helpers/config.js';
import { MemorySink, context, invoke } from '../helpers/events.js';
import { sample } from '../helpers/records.js';

const rec = (id: string, over: Partial<CaptureRecord> = {}): CaptureRecord => ({ ...sample, request_id: id, ...over });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-spill-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A stream that refuses the records whose id is in `refuse`, as Firehose refuses part of a batch. */
class PartlyFailingStream extends MemorySink {
  public refuse = new Set<string>();
  public override async put(records: readonly CaptureRecord[]): Promise<void> {
    const failed = records.filter((r) => this.refuse.has(r.request_id));
    this.records.push(...records.filter((r) => !this.refuse.has(r.request_id)));
    if (failed.length > 0) throw new CaptureSinkError('ServiceUnavailableException: slow down', failed);
  }
}

async function spilledIds(store: FileObjectStore): Promise<string[]> {
  const ids: string[] = [];
  for (const o of await store.list(SPILL_PREFIX)) {
    const text = new TextDecoder().decode(await store.get(o.key));
    for (const line of text.trim().split('\n')) ids.push(JSON.parse(line).record.request_id);
  }
  return ids.sort();
}

describe('Spilling sink', () => {
  it('spills only the records the stream refused, with the reason, and resolves', async () => {
    const stream = new PartlyFailingStream();
    stream.refuse = new Set(['b', 'c']);
    const store = new FileObjectStore(dir);
    const counters = new CaptureCounters();
    const sink = new SpillingSink(stream, store, counters, { spillTimeoutMs: 1000 });
    await sink.put([rec('a'), rec('b'), rec('c', { endpoint: 'iris-classifier' })]);
    expect(stream.records.map((r) => r.request_id)).toEqual(['a']);
    expect(await spilledIds(store)).toEqual(['b', 'c']);
    const keys = (await store.list(SPILL_PREFIX)).map((o) => o.key);
    expect(keys.map((k) => k.split('/').slice(0, 3).join('/')).sort()).toEqual(['_spill/iris-classifier/2026-11-22', '_spill/iris/2026-11-22']);
    const line = JSON.parse(new TextDecoder().decode(await store.get(keys[0] as string)).trim());
    expect(line.reason).toBe('ServiceUnavailableException: slow down');
    expect(counters.total(CaptureMetric.spilled)).toBe(2);
    expect(sink.status('iris').message).toContain('1 records spilled since start');
  });

  it('counts the records lost, with their ids, when the spill fails too', async () => {
    const stream = new MemorySink();
    stream.failWith = new Error('disk full');
    const counters = new CaptureCounters();
    const broken = new FileObjectStore(dir);
    broken.put = () => Promise.reject(new Error('ENOSPC: no space left on device'));
    const sink = new SpillingSink(stream, broken, counters, { spillTimeoutMs: 1000 });
    const error = await sink.put([rec('x'), rec('y')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureLostError);
    expect((error as CaptureLostError).lost.map((r) => r.request_id)).toEqual(['x', 'y']);
    expect(counters.total(CaptureMetric.lost, 'iris')).toBe(2);
    expect(counters.total(CaptureMetric.spilled)).toBe(0);
  });

  it('keeps a spill write within its own time budget', async () => {
    vi.useFakeTimers();
    try {
      const stream = new MemorySink();
      stream.failWith = new Error('down');
      const hanging = new FileObjectStore(dir);
      hanging.put = () => new Promise(() => undefined);
      const counters = new CaptureCounters();
      const put = new SpillingSink(stream, hanging, counters, { spillTimeoutMs: 2000 }).put([rec('slow')]);
      const settled = vi.fn();
      put.then(settled, settled);
      await vi.advanceTimersByTimeAsync(1999);
      expect(settled).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toHaveBeenCalledWith(expect.any(CaptureLostError));
      expect(counters.total(CaptureMetric.lost)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Redrive', () => {
  it('puts spilled records back into the stream and deletes their objects', async () => {
    const store = new FileObjectStore(dir);
    const first = new PartlyFailingStream();
    first.refuse = new Set(['p', 'q']);
    await new SpillingSink(first, store, new CaptureCounters(), { spillTimeoutMs: 1000 }).put([rec('p'), rec('q')]);
    const stream = new MemorySink();
    const counters = new CaptureCounters();
    const report = await redriveSpilled(store, stream, counters);
    expect(report).toEqual({ objects: 1, redriven: 2, failed: [], unreadable: [] });
    expect(stream.records.map((r) => r.request_id)).toEqual(['p', 'q']);
    expect(stream.records[0]).toEqual(rec('p'));
    expect(await store.list(SPILL_PREFIX)).toEqual([]);
    expect(counters.total(CaptureMetric.redriven, 'iris')).toBe(2);
  });

  it('keeps an object the stream refuses again, and one with an unreadable line', async () => {
    const store = new FileObjectStore(dir);
    await store.put(`${SPILL_PREFIX}iris/2026-11-22/000000000000001-a.ndjson`, `${JSON.stringify({ spilled_at_ms: 1, reason: 'r', record: rec('a') })}\n`);
    await store.put(`${SPILL_PREFIX}iris/2026-11-22/000000000000002-b.ndjson`, `${JSON.stringify({ spilled_at_ms: 1, reason: 'r', record: rec('b') })}\n{"half":\n`);
    const stream = new MemorySink();
    stream.failWith = new Error('still throttled');
    const report = await redriveSpilled(store, stream, new CaptureCounters());
    expect(report.redriven).toBe(0);
    expect(report.failed).toEqual([{ key: `${SPILL_PREFIX}iris/2026-11-22/000000000000001-a.ndjson`, records: 1, error: 'still throttled' }]);
    expect(report.unreadable).toEqual([{ key: `${SPILL_PREFIX}iris/2026-11-22/000000000000002-b.ndjson`, line: 2 }]);
    expect((await store.list(SPILL_PREFIX)).length).toBe(2);
  });

  it('takes one endpoint, oldest objects first, and refuses a name that is not one', async () => {
    const store = new FileObjectStore(dir);
    for (const [ep, n] of [['iris', 3], ['iris', 1], ['other', 2]] as const) {
      await store.put(`${SPILL_PREFIX}${ep}/2026-11-22/00000000000000${n}-x.ndjson`, `${JSON.stringify({ spilled_at_ms: n, reason: 'r', record: rec(`${ep}${n}`, { endpoint: ep }) })}\n`);
    }
    const stream = new MemorySink();
    const report = await redriveSpilled(store, stream, new CaptureCounters(), { endpoint: 'iris', maxObjects: 1 });
    expect(report.redriven).toBe(1);
    expect(stream.records.map((r) => r.request_id)).toEqual(['iris1']);
    await expect(redriveSpilled(store, stream, new CaptureCounters(), { endpoint: '../etc' })).rejects.toThrow(/Invalid endpoint name/);
  });
});

describe('Capture budget on AWS (Firehose, then the S3 spill)', () => {
  const firehose = mockClient(FirehoseClient);
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    firehose.reset();
    s3.reset();
  });

  function awsSink(lines: string[]) {
    const metrics = new EmfPublisher({ Environment: 'dev' }, (line) => lines.push(line));
    const stream = new FirehoseSink(new FirehoseClient({ region: 'eu-west-1', maxAttempts: 1 }), { streamsFor: () => ['s'], budgetMs: 1000, metrics });
    return new SpillingSink(stream, new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'data-bucket'), metrics, { spillTimeoutMs: 2000 });
  }

  it('answers the caller within the retry budget plus the spill budget when Firehose hangs, and spills the record', async () => {
    vi.useFakeTimers();
    try {
      firehose.on(PutRecordBatchCommand).callsFake(() => new Promise(() => undefined));
      s3.on(PutObjectCommand).resolves({});
      const lines: string[] = [];
      const handler = createScoringHandler({ config: demoConfig(), sink: awsSink(lines), backends: createBackendFactory(), version: 't' });
      const answer = handler(invoke('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }), context as ScoringContext);
      const settled = vi.fn();
      answer.then(settled, settled);
      await vi.advanceTimersByTimeAsync(999);
      expect(settled).not.toHaveBeenCalled();
      // Budget of 1,000 ms spent on Firehose; the spill answers at once.
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toHaveBeenCalledWith(expect.objectContaining({ statusCode: 200 }));
      const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
      expect(put?.Bucket).toBe('data-bucket');
      expect(put?.Key).toMatch(/^_spill\/iris\/\d{4}-\d{2}-\d{2}\/\d{15}-[0-9a-f-]{36}\.ndjson$/);
      expect(JSON.parse(String(put?.Body)).reason).toMatch(/did not answer within/);
      const emf = lines.map((l) => JSON.parse(l));
      expect(emf.find((m) => m.CaptureSpilled === 1)).toMatchObject({ Environment: 'dev', Endpoint: 'iris', _aws: { CloudWatchMetrics: [{ Namespace: 'InferenceTables', Dimensions: [['Environment', 'Endpoint'], ['Environment']] }] } });
    } finally {
      vi.useRealTimers();
    }
  });

  it('retries a throttled batch within the budget, counting retries, and spills nothing once it goes through', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ServiceUnavailableException' }))
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '1' }] });
    const lines: string[] = [];
    await awsSink(lines).put([rec('t')]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(lines.map((l) => JSON.parse(l)).find((m) => m.CaptureRetried)).toMatchObject({ CaptureRetried: 1, Endpoint: 'iris' });
  });

  it('gives up at the deadline even while a slow call keeps the budget busy', async () => {
    vi.useFakeTimers();
    try {
      // Each call fails only after 600 ms: the second attempt is cut at the 1,000 ms deadline.
      firehose.on(PutRecordBatchCommand).callsFake(() => new Promise((_, reject) => setTimeout(() => reject(new Error('InternalFailure')), 600)));
      const stream = new FirehoseSink(new FirehoseClient({ region: 'eu-west-1' }), { streamsFor: () => ['s'], budgetMs: 1000, baseDelayMs: 1 });
      const put = stream.put([rec('z')]);
      const settled = vi.fn();
      put.then(settled, settled);
      await vi.advanceTimersByTimeAsync(1000);
      expect(settled).toHaveBeenCalledWith(expect.any(CaptureSinkError));
      expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
