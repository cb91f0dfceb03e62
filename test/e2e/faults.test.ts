/**
 * Fault injection on the capture path, behaviour only (no timings asserted): after each fault,
 * the counts reconcile. Requests answered = rows in the payload table = rows in the unpacked
 * table after a refresh, or the difference is accounted for by spilled, refused or rejected
 * requests with their reasons. The AWS path runs FirehoseSink against a mocked Firehose
 * client (the network edge) whose accepted records land in a real local delivery stream.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirehoseSink } from '../../lambdas/adapters/aws/firehose-sink.js';
import { CaptureCounters } from '../../lambdas/adapters/local/capture-counters.js';
import { LocalDeliveryStream, STAGING_DIR } from '../../lambdas/adapters/local/delivery-stream.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { startLocalServer } from '../../lambdas/adapters/local/http-server.js';
import { runLocalRefresh } from '../helpers/local.js';
import { createBackendFactory } from '../../lambdas/backends/factory.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { type CaptureSink, CaptureSinkError, type CaptureStatus } from '../../lambdas/core/ports.js';
import { CaptureMetric, SPILL_PREFIX, SpillingSink, redriveSpilled } from '../../lambdas/core/spill.js';
import { createScoringHandler } from '../../lambdas/scoring/handler.js';
import { startLocalStack } from '../helpers/local.js';
import type { ScoringContext } from '../../lambdas/scoring/middleware.js';
import type { Config } from '../../lambdas/core/config/index.js';
import { configWith, demoConfig } from '../helpers/config.js';
import { context, invoke } from '../helpers/events.js';
import { queryRows } from '../helpers/query.js';

let dir: string;
let stream: LocalDeliveryStream;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-faults-'));
  stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
});
afterEach(async () => {
  await stream.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Sends `n` iris requests through a handler over `sink`; returns request id → status answered. */
async function score(config: Config, sink: CaptureSink, n: number, path = '/serving-endpoints/iris/invocations', input = (i: number) => [[5.1, 3.5, 1.4, 0.2 + i / 100]]) {
  const handler = createScoringHandler({ config, sink, backends: createBackendFactory(), version: 't' });
  const answered = new Map<string, number>();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      // A context per invocation, as Lambda gives: the trace of a request lives on it.
      const res = await handler(invoke(path, { client_request_id: `fault-${i}`, inputs: input(i) }), { ...context } as ScoringContext);
      answered.set(String(res.headers?.['x-request-id']), res.statusCode);
    }),
  );
  return answered;
}

/** The payload rows (request id → status) and, after a refresh, the unpacked request ids and the refresh report. */
async function tables(config: Config, endpoint = 'iris') {
  await stream.flush();
  const table = endpoint.replaceAll('-', '_');
  const payload = new Map((await queryRows(dir, config, `SELECT request_id, status_code FROM ${table}_payload`)).map((r) => [String(r.request_id), Number(r.status_code)]));
  const refresh = await runLocalRefresh({ config, dataDir: dir, endpoints: [endpoint], unpackThreads: 1 });
  const unpacked = new Set((await queryRows(dir, config, `SELECT DISTINCT request_id FROM ${table}_unpacked`)).map((r) => String(r.request_id)));
  return { payload, unpacked, report: refresh.reports[0] };
}

/** A stream in front of the real one that refuses every `every`-th put whole. */
class RefusingShare implements CaptureSink {
  private puts = 0;
  public constructor(
    private readonly inner: CaptureSink,
    private readonly every: number,
  ) {}
  public async put(records: readonly CaptureRecord[]): Promise<void> {
    if (++this.puts % this.every === 0) throw new CaptureSinkError('injected: the stream refused the put', records);
    await this.inner.put(records);
  }
  public status(endpoint: string): CaptureStatus {
    return this.inner.status(endpoint);
  }
}

describe('faults on the capture path, and the counts after each', () => {
  it('the stream refusing a share of puts: the refused are spilled, redriven, and every answered request ends in both tables', async () => {
    const config = demoConfig();
    const spill = new FileObjectStore(dir);
    const counters = new CaptureCounters();
    const answered = await score(config, new SpillingSink(new RefusingShare(stream, 3), spill, counters, { spillTimeoutMs: 5000 }), 30);
    expect([...answered.values()].every((s) => s === 200)).toBe(true);
    expect(counters.total(CaptureMetric.spilled)).toBe(10);
    await stream.flush();
    expect((await queryRows(dir, config, 'SELECT count(*) AS n FROM iris_payload'))[0]?.n).toBe(20);

    const redrive = await redriveSpilled(spill, stream, counters);
    expect(redrive).toMatchObject({ redriven: 10, failed: [], unreadable: [] });
    expect(await spill.list(SPILL_PREFIX)).toEqual([]);
    const { payload, unpacked } = await tables(config);
    expect(new Set(payload.keys())).toEqual(new Set(answered.keys()));
    expect(unpacked).toEqual(new Set(answered.keys()));
    expect(counters.total(CaptureMetric.lost)).toBe(0);
  });

  it('a crash between writing the Parquet files and removing the segment: replayed at the next start, one unpacked row per request', async () => {
    const config = demoConfig();
    const answered = await score(config, stream, 12);
    const staging = join(dir, STAGING_DIR);
    const [segment] = (await readdir(staging)).filter((f) => f.endsWith('.ndjson'));
    const kept = await readFile(join(staging, segment as string));
    await stream.flush();
    // The process "dies" right after the rename: the segment is still on disk at the next start.
    await stream.close();
    await writeFile(join(staging, segment as string), kept);
    stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
    expect(stream.recovered.records).toBe(12);
    const { payload, unpacked, report } = await tables(config);
    const rows = await queryRows(dir, config, 'SELECT count(*) AS n FROM iris_payload');
    // At-least-once in the payload table (every record twice), exactly-once in the unpacked table.
    expect(rows[0]?.n).toBe(24);
    expect(new Set(payload.keys())).toEqual(new Set(answered.keys()));
    expect(unpacked).toEqual(new Set(answered.keys()));
    // The unpack step reads both copies; the commit keeps one row per request id and row.
    expect(report).toMatchObject({ requests: 24, rejected: 0 });
    expect((await queryRows(dir, config, 'SELECT count(*) AS n FROM iris_unpacked'))[0]?.n).toBe(12);
  });

  describe('on the AWS path (FirehoseSink; a mocked Firehose delivering into a real stream)', () => {
    const firehose = mockClient(FirehoseClient);
    beforeEach(() => firehose.reset());

    /** Delivers the records Firehose accepts into the local stream, as the service delivers to S3. */
    const deliver = async (input: PutRecordBatchCommandInput, accept: (i: number) => boolean) => {
      const records = input.Records ?? [];
      const taken = records.filter((_, i) => accept(i)).map((r) => JSON.parse(new TextDecoder().decode(r.Data)) as CaptureRecord);
      if (taken.length > 0) await stream.put(taken);
      return {
        FailedPutCount: records.length - taken.length,
        RequestResponses: records.map((_, i) => (accept(i) ? { RecordId: `id-${i}` } : { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' })),
      };
    };

    it('whole-batch throttling and partial batch failures are retried within the budget; an outage past it is spilled, then redriven', async () => {
      const config = demoConfig();
      const counters = new CaptureCounters();
      const spill = new FileObjectStore(dir);
      let calls = 0;
      let outage = false;
      firehose.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
        calls++;
        if (outage || calls % 4 === 1) throw Object.assign(new Error('Rate exceeded for stream'), { name: 'ServiceUnavailableException' });
        // Every other call takes only the first record of its batch.
        return deliver(input, (i) => calls % 2 === 1 || i === 0);
      });
      const aws = () => new FirehoseSink(new FirehoseClient({ region: 'eu-west-1', maxAttempts: 1 }), { streamsFor: () => ['s'], budgetMs: 2000, baseDelayMs: 1, metrics: counters });
      const sink = new SpillingSink(aws(), spill, counters, { spillTimeoutMs: 5000 });

      const first = await score(config, sink, 20);
      expect(counters.total(CaptureMetric.retried)).toBeGreaterThan(0);
      expect(counters.total(CaptureMetric.spilled)).toBe(0);

      outage = true;
      const second = await score(config, new SpillingSink(new FirehoseSink(new FirehoseClient({ region: 'eu-west-1', maxAttempts: 1 }), { streamsFor: () => ['s'], budgetMs: 50, baseDelayMs: 1, metrics: counters }), spill, counters, { spillTimeoutMs: 5000 }), 10);
      expect([...second.values()].every((s) => s === 200)).toBe(true);
      expect(counters.total(CaptureMetric.spilled)).toBe(10);

      outage = false;
      const redrive = await redriveSpilled(spill, aws(), counters);
      expect(redrive.redriven).toBe(10);
      const answered = new Map([...first, ...second]);
      const { payload, unpacked } = await tables(config);
      expect(new Set(payload.keys())).toEqual(new Set(answered.keys()));
      expect(unpacked).toEqual(new Set(answered.keys()));
      expect(counters.total(CaptureMetric.lost)).toBe(0);
    });
  });

  describe('a model backend failing, timing out or answering garbage', () => {
    let model: Server;
    beforeEach(async () => {
      // The first feature of the first row says how to misbehave.
      model = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const mode = (JSON.parse(body) as { inputs: number[][] }).inputs[0]?.[0];
          if (mode === 1) res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[1]}');
          else if (mode === 2) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"model crashed"}');
          else if (mode === 3) return; // never answers
          else if (mode === 4) res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not a prediction</html>');
          else req.socket.destroy();
        });
      });
      await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    });
    afterEach(async () => {
      model.closeAllConnections();
      await new Promise((r) => model.close(r));
    });

    it('answers 502 or 504 or the garbage, captures every answer, and the refresh accounts for each one', async () => {
      const url = `http://127.0.0.1:${(model.address() as AddressInfo).port}`;
      const config = configWith((c) => {
        const signature = c.models[0].versions[1].signature;
        c.models.push({ name: 'flaky-model', versions: [{ version: '1', stage: 'Production', backend: { type: 'http', url, timeout_ms: 2000 }, signature }] });
        c.endpoints.push({ name: 'flaky', served_entities: [{ entity_name: 'flaky-model', entity_version: '1', traffic_percentage: 100 }], capture: { enabled: true } });
      });
      const sink = new SpillingSink(stream, new FileObjectStore(dir), new CaptureCounters(), { spillTimeoutMs: 5000 });
      const answered = await score(config, sink, 20, '/serving-endpoints/flaky/invocations', (i) => [[(i % 5) + 1, 1, 1, 1]]);
      const byStatus = (s: number) => [...answered.values()].filter((x) => x === s).length;
      // Fine and garbage: 200; crashed and cut: 502; silent: 504.
      expect([byStatus(200), byStatus(502), byStatus(504)]).toEqual([8, 8, 4]);

      const { payload, unpacked, report } = await tables(config, 'flaky');
      expect(payload).toEqual(answered);
      // Every captured request is unpacked, skipped for its status, or rejected with a reason.
      expect(report).toMatchObject({ requests: 20, skipped_status: 12, predictions: 4, rejected: 4 });
      expect(unpacked.size).toBe(4);
      const reasons = await queryRows(dir, config, 'SELECT DISTINCT reason FROM flaky_unpack_errors');
      expect(reasons).toHaveLength(1);
    });
  });

  it('the local server puts records spilled before it started back into the stream', async () => {
    const config = demoConfig();
    const spilledDir = await mkdtemp(join(tmpdir(), 'it-faults-spilled-'));
    try {
      // Spilled by an earlier run whose stream refused them.
      const earlier = await LocalDeliveryStream.open({ dataDir: spilledDir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
      const answered = await score(config, new SpillingSink(new RefusingShare(earlier, 1), new FileObjectStore(spilledDir), new CaptureCounters(), { spillTimeoutMs: 5000 }), 5);
      await earlier.close();
      expect((await new FileObjectStore(spilledDir).list(SPILL_PREFIX)).length).toBeGreaterThan(0);
      const local = await startLocalStack({ config, dataDir: spilledDir, port: 0, scheduleRefresh: false });
      expect(local.counters.total(CaptureMetric.redriven, 'iris')).toBe(5);
      await local.close();
      expect(await new FileObjectStore(spilledDir).list(SPILL_PREFIX)).toEqual([]);
      const ids = await queryRows(spilledDir, config, 'SELECT request_id FROM iris_payload');
      expect(new Set(ids.map((r) => String(r.request_id)))).toEqual(new Set(answered.keys()));
    } finally {
      await rm(spilledDir, { recursive: true, force: true });
    }
  });

  it('more requests than the server handles at once: the rest get 503 with Retry-After at once, and are counted', async () => {
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    const server = await startLocalServer({
      handler: async (event) => {
        if (event.httpMethod === 'POST') await blocked;
        return { statusCode: 200, body: '{}' };
      },
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      maxInFlight: 2,
    });
    try {
      const post = () => fetch(`${server.url}/serving-endpoints/iris/invocations`, { method: 'POST', body: '{}' });
      const first = [post(), post()];
      await new Promise((r) => setTimeout(r, 100));
      // Health checks hold no slot: answered while every slot is taken.
      expect((await fetch(`${server.url}/ping`)).status).toBe(200);
      const third = await post();
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('1');
      expect(await third.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
      expect(server.overloaded()).toBe(1);
      release();
      expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
      expect((await post()).status).toBe(200);
    } finally {
      release();
      await server.close();
    }
  });
});
