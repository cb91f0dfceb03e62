/**
 * `npm run bench`: the capture path against baselines, in one run, with one load generator
 * (autocannon) and the seeds' iris payload:
 *   (a) a bare Node HTTP server that parses the JSON and returns a fixed prediction,
 *   (b) the local stack with capture off, (c) with capture on;
 * then the local delivery stream alone, records per second into Parquet; then the staging
 * log's puts, synced and not; then the handler alone in process (capture on vs off), the
 * figure the README's Lambda cost uses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { LocalDeliveryStream } from '../lambdas/adapters/local/delivery-stream.js';
import { irisRecord } from './records.js';
import type { CaptureRecord } from '../lambdas/core/capture-record.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';
import { createBackendFactory } from '../lambdas/backends/factory.js';
import type { CaptureSink } from '../lambdas/core/ports.js';
import { createScoringHandler } from '../lambdas/scoring/handler.js';
import type { ScoringContext } from '../lambdas/scoring/middleware.js';
import { context, invoke } from '../test/helpers/events.js';
// The three rows of the Databricks documentation's client_request_id example.
import seedRecords from '../test/fixtures/seed-dataframe-records.json' with { type: 'json' };

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SINK_RECORDS = Number(process.env.BENCH_SINK_RECORDS ?? 200_000);
const WAL_PUTS = Number(process.env.BENCH_WAL_PUTS ?? 40_000);
const ROOT = join(import.meta.dirname, '..');

const payload = JSON.stringify({
  client_request_id: 'bench',
  dataframe_records: seedRecords,
});

interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function startServer(mode: string, dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/server.ts'), mode, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return { child, url };
}

async function load(name: string, url: string, path: string): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    connections: CONNECTIONS,
    duration: DURATION_S,
  });
  return { name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function serverRun(mode: string, name: string, path: string): Promise<LoadResult> {
  const dataDir = await mkdtemp(join(tmpdir(), `bench-${mode}-`));
  const { child, url } = await startServer(mode, dataDir);
  try {
    await load(`${name} (warm-up)`, url, path).catch(() => undefined);
    return await load(name, url, path);
  } finally {
    await stop(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function sinkRun(): Promise<{ records: number; seconds: number; perSecond: number }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-sink-'));
  const stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: 64 * 1024 * 1024 });
  const response = '{"predictions":[0,0,0]}';
  // Records are built by the handler; the stream is timed from put to Parquet on disk.
  const batches: CaptureRecord[][] = [];
  for (let i = 0; i < SINK_RECORDS; i += 1000) {
    const batch: CaptureRecord[] = [];
    for (let j = i; j < Math.min(i + 1000, SINK_RECORDS); j++) {
      batch.push(irisRecord(j, { clientRequestId: 'bench', receivedAtMs: Date.now(), body: payload, response, format: 'dataframe_split' }));
    }
    batches.push(batch);
  }
  const start = performance.now();
  for (const batch of batches) await stream.put(batch);
  await stream.close();
  const seconds = (performance.now() - start) / 1000;
  await rm(dataDir, { recursive: true, force: true });
  return { records: SINK_RECORDS, seconds, perSecond: SINK_RECORDS / seconds };
}

/**
 * Single-record puts from `CONNECTIONS` concurrent writers, as the server makes them, with
 * the staging log synced before each put resolves (grouped) or not synced: what the sync costs.
 */
async function walRun(sync: boolean): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'bench-wal-'));
  const stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30, syncWrites: sync });
  const records = Array.from({ length: WAL_PUTS }, (_, i) => irisRecord(i, { clientRequestId: 'bench', receivedAtMs: Date.now(), body: payload, response: '{"predictions":[0,0,0]}', format: 'dataframe_split' }));
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < records.length) await stream.put([records[next++] as CaptureRecord]);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await stream.close();
  await rm(dataDir, { recursive: true, force: true });
  return WAL_PUTS / seconds;
}

/** Microseconds per request of the scoring handler in process, capture to memory on or off. */
async function handlerRun(capture: boolean): Promise<number> {
  const config = loadConfig('local', ROOT);
  for (const e of config.endpoints) e.capture.enabled = capture;
  let kept = 0;
  const sink: CaptureSink = { put: async (records) => void (kept += records.length), status: () => ({ status: 'ACTIVE', message: '' }) };
  const handler = createScoringHandler({ config, sink, backends: createBackendFactory(), version: 'bench' });
  const event = invoke('/serving-endpoints/iris/invocations', payload);
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) await handler(event, { ...context } as ScoringContext);
  };
  await run(5_000);
  const n = 50_000;
  const start = performance.now();
  await run(n);
  if (capture && kept === 0) throw new Error('the handler captured nothing');
  return ((performance.now() - start) * 1000) / n;
}

const a = await serverRun('bare', '(a) bare Node HTTP server', '/invocations');
const b = await serverRun('off', '(b) local stack, capture off', '/serving-endpoints/iris/invocations');
const c = await serverRun('on', '(c) local stack, capture on', '/serving-endpoints/iris/invocations');
const sink = await sinkRun();
const walUnsynced = await walRun(false);
const walSynced = await walRun(true);
const handlerOff = await handlerRun(false);
const handlerOn = await handlerRun(true);

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lines = [
  `inference-tables capture benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  `load: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s each, seeds' 3-row iris dataframe_records payload`,
  '',
  '| server | req/s | p50 ms | p99 ms | errors |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...[a, b, c].map((r) => `| ${r.name} | ${fmt(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
  '',
  `c/a = ${fmt(c.rps / a.rps, 2)} (target ≥ 0.4)   c/b = ${fmt(c.rps / b.rps, 2)} (target ≥ 0.9)`,
  `local delivery stream alone: ${fmt(sink.records)} records into Parquet in ${fmt(sink.seconds, 2)} s = ${fmt(sink.perSecond)} records/s (target ≥ 50,000)`,
  `staging log, ${CONNECTIONS} concurrent single-record puts: ${fmt(walSynced)} puts/s synced before each answer (grouped), ${fmt(walUnsynced)} puts/s not synced (baseline)`,
  `scoring handler in process (seeds' batch, built-in iris): ${fmt(handlerOff, 1)} µs capture off, ${fmt(handlerOn, 1)} µs capture on (record built, sink in memory)`,
];
process.stdout.write(`${lines.join('\n')}\n`);
