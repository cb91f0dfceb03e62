/**
 * `npm run bench`, second part: the refresh workflow (unpack, commit, profile, quality and drift metrics) over captured requests with
 * mixed batch sizes and input formats, beside the embedded engine's plain scan of the same
 * Parquet files, each measured in `BENCH_ROUNDS` (3) rounds on a fresh copy of the same files,
 * medians printed. Each measurement runs in its own process, so its peak memory is its own:
 *   generate  the payload files, through the local delivery stream (not timed);
 *   scan      DuckDB reads every column of every file (the baseline);
 *   refresh   the local refresh: the synthesized definition in the ASL interpreter, unpack
 *             tasks, staged rows, MERGE into `iris_unpacked` on the local warehouse, then the
 *             metrics of every window touched (two granularities, baseline and consecutive drift);
 *   again     a second refresh with no new data;
 *   peer      `bench/peer/notebook.py`, pandas and scipy doing a notebook's parse, explode,
 *             profiles and drift on one core, over a CSV export of the same files (Debian has
 *             no pyarrow; the export is not timed).
 */
import { execFile, execFileSync } from 'node:child_process';
import { cp, readdir, rm, stat, mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { LocalDeliveryStream } from '../lambdas/adapters/local/delivery-stream.js';
import { runLocalRefresh } from '../test/helpers/local.js';
import { irisRecord } from './records.js';
import type { CaptureRecord } from '../lambdas/core/capture-record.js';
import { loadConfig } from '../lambdas/wiring/config-file.js';

const REQUESTS = Number(process.env.BENCH_UNPACK_REQUESTS ?? 1_000_000);
/**
 * `iris`: values of one decimal, as the demo's (about 61 distinct per feature); `continuous`:
 * six decimals, nearly every value distinct, as real features are (sorts and quantiles cost more).
 */
const VALUES = process.env.BENCH_VALUES === 'continuous' ? 'continuous' : 'iris';
const SCALE = VALUES === 'continuous' ? 1e6 : 10;
const ROOT = join(import.meta.dirname, '..');
const DAY_MS = 86_400_000;
const run = promisify(execFile);

/** Rows per request and their share of requests: mostly single rows, a tail of large batches. */
const BATCH_SIZES: readonly (readonly [rows: number, share: number])[] = [
  [1, 0.4],
  [2, 0.25],
  [5, 0.2],
  [20, 0.1],
  [50, 0.05],
];
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

/** A deterministic generator, so every run unpacks the same requests. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function batchSize(r: number): number {
  let acc = 0;
  for (const [rows, share] of BATCH_SIZES) {
    acc += share;
    if (r < acc) return rows;
  }
  return 1;
}

/** The body of the i-th request in one of the five input formats, and its response. */
function request(i: number, rows: number[][]): { body: string; response: string; format: string } {
  const predictions = rows.map((r) => (r[2]! < 2.5 ? 0 : r[3]! < 1.7 ? 1 : 2));
  const response = JSON.stringify({ predictions });
  const records = () => rows.map((r) => Object.fromEntries(FEATURES.map((f, j) => [f, r[j]])));
  switch (i % 5) {
    case 0:
      return { body: JSON.stringify({ client_request_id: `c-${i}`, dataframe_split: { columns: FEATURES, data: rows } }), response, format: 'dataframe_split' };
    case 1:
      return { body: JSON.stringify({ client_request_id: `c-${i}`, dataframe_records: records() }), response, format: 'dataframe_records' };
    case 2:
      return { body: JSON.stringify({ client_request_id: `c-${i}`, instances: records() }), response, format: 'instances' };
    case 3:
      return { body: JSON.stringify({ client_request_id: `c-${i}`, inputs: Object.fromEntries(FEATURES.map((f, j) => [f, rows.map((r) => r[j])])) }), response, format: 'inputs' };
    default:
      return { body: `${FEATURES.join(',')}\n${rows.map((r) => r.join(',')).join('\n')}\n`, response, format: 'csv' };
  }
}

async function generate(dataDir: string): Promise<void> {
  const stream = await LocalDeliveryStream.open({ dataDir, bufferIntervalMs: 0, bufferSizeBytes: 16 * 1024 * 1024 });
  const next = random(42);
  const start = Date.UTC(2026, 10, 1);
  let predictions = 0;
  for (let i = 0; i < REQUESTS; i += 1000) {
    const batch: CaptureRecord[] = [];
    for (let j = i; j < Math.min(i + 1000, REQUESTS); j++) {
      const n = batchSize(next());
      predictions += n;
      const rows = Array.from({ length: n }, () => FEATURES.map((_, k) => Math.round((1 + next() * (k < 2 ? 6 : 3)) * SCALE) / SCALE));
      const { body, response, format } = request(j, rows);
      batch.push(
        irisRecord(j, {
          clientRequestId: j % 5 === 4 ? null : `c-${j}`,
          // Three days of traffic: three date partitions to commit.
          receivedAtMs: start + Math.floor((j / REQUESTS) * 3 * DAY_MS),
          body,
          response,
          format,
        }),
      );
    }
    await stream.put(batch);
  }
  await stream.close();
  process.stdout.write(`${JSON.stringify({ predictions })}\n`);
}

interface ScanAnswer {
  seconds: number;
  requests: number;
}

interface RefreshAnswer {
  seconds: number;
  unpack: number;
  commit: number;
  /** Profile, quality and drift of the windows touched, and storing them. */
  metrics: number;
  metricsPeakMiB: number;
  unpackPeakMiB: number;
  commitPeakMiB: number;
  tasks: number;
  requests: number;
  predictions: number;
  rejected: number;
}

interface PeerAnswer {
  seconds: number;
  rows: number;
  windows: number;
  peakMiB: number;
}

const PYTHON = '/usr/bin/python3';

/** Why the peer cannot run here, or null when Debian's python3 has pandas and scipy. */
function peerMissing(): string | null {
  try {
    execFileSync(PYTHON, ['-c', 'import pandas, scipy'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${PYTHON} with pandas and scipy not found (apt-get install -y python3-pandas python3-scipy)`;
  }
}

/** The peer over a CSV export of the payload files; its own figures, peak memory included. */
async function peer(dataDir: string): Promise<PeerAnswer> {
  const csv = join(dataDir, 'peer-payload.csv');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(
    `COPY (SELECT request_id, timestamp_ms, status_code, request_format, request, response FROM read_parquet('${join(dataDir, 'iris_payload', '**', '*.parquet')}')) TO '${csv}' (FORMAT csv, HEADER)`,
  );
  connection.closeSync();
  instance.closeSync();
  try {
    const { stdout } = await run(PYTHON, [join(ROOT, 'bench', 'peer', 'notebook.py'), csv, join(ROOT, 'config', 'baselines', 'iris.csv')], { maxBuffer: 1 << 20, timeout: 3_600_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as PeerAnswer;
  } finally {
    await rm(csv, { force: true });
  }
}

async function scan(dataDir: string): Promise<ScanAnswer> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const started = performance.now();
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::BIGINT AS n, sum(length(request))::BIGINT AS request_chars, sum(length(response))::BIGINT AS response_chars, count(DISTINCT request_id)::BIGINT AS ids
     FROM read_parquet('${join(dataDir, 'iris_payload', '**', '*.parquet')}')`,
  );
  const seconds = (performance.now() - started) / 1000;
  const [row] = reader.getRowObjectsJson() as Record<string, string>[];
  connection.closeSync();
  instance.closeSync();
  return { seconds, requests: Number(row?.n) };
}

async function refresh(dataDir: string): Promise<RefreshAnswer> {
  const config = loadConfig('local', ROOT);
  const phases = new Map<string, number>();
  let tasks = 0;
  // Peak resident memory while each phase runs (DuckDB's memory is native, so RSS, not heap).
  let phase: 'unpack' | 'commit' | 'metrics' | 'other' = 'other';
  const peak = { unpack: 0, commit: 0, metrics: 0, other: 0 };
  const sampler = setInterval(() => (peak[phase] = Math.max(peak[phase], process.memoryUsage().rss)), 20);
  const started = performance.now();
  const result = await runLocalRefresh({
    config,
    dataDir,
    projectRoot: ROOT,
    endpoints: ['iris'],
    onProgress: (p) => {
      if (p.kind === 'entered' && p.state === 'UnpackTask') tasks += 1;
      if (['Unpack', 'Commit', 'ComputeMetrics', 'RunMetricStatements'].includes(p.state) && (p.kind === 'entered' || p.kind === 'exited')) {
        phases.set(`${p.state}:${p.kind}`, performance.now());
        if (p.state === 'Unpack') phase = p.kind === 'exited' ? 'other' : 'unpack';
        else if (p.state === 'ComputeMetrics') phase = p.kind === 'exited' ? 'commit' : 'metrics';
        else if (p.state === 'Commit') phase = p.kind === 'exited' ? 'other' : 'commit';
      }
    },
  });
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const report = result.reports.find((r) => r.endpoint === 'iris');
  const span = (s: string) => ((phases.get(`${s}:exited`) ?? 0) - (phases.get(`${s}:entered`) ?? 0)) / 1000;
  const metrics = span('ComputeMetrics') + span('RunMetricStatements');
  return { seconds, unpack: span('Unpack'), commit: span('Commit') - metrics, metrics, metricsPeakMiB: peak.metrics / 2 ** 20, unpackPeakMiB: peak.unpack / 2 ** 20, commitPeakMiB: peak.commit / 2 ** 20, tasks, requests: report?.requests ?? 0, predictions: report?.predictions ?? 0, rejected: report?.rejected ?? 0 };
}

/** Runs one mode in a child process; its answer and its peak resident memory. */
async function child<T>(mode: string, dataDir: string): Promise<T & { peakMiB: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', import.meta.filename, mode, dataDir], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 3_600_000 });
  const line = stdout.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(line) as T & { peakMiB: number };
}

/** Runs of each measurement; each figure printed is its median (a field's own median). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The runs as one, each numeric field the median of its values. */
function medianOf<T extends object>(runs: readonly T[]): T {
  const first = runs[0] as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(first).map(([k, v]) => [k, typeof v === 'number' ? median(runs.map((r) => (r as Record<string, number>)[k] as number)) : v]),
  ) as T;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bench-unpack-'));
  const generated = join(root, 'generated');
  try {
    const { predictions } = await child<{ predictions: number }>('generate', generated);
    const files = (await readdir(join(generated, 'iris_payload'), { recursive: true })).filter((f) => f.endsWith('.parquet'));
    let bytes = 0;
    for (const f of files) bytes += (await stat(join(generated, 'iris_payload', f))).size;
    const missing = peerMissing();
    const scans: (ScanAnswer & { peakMiB: number })[] = [];
    const refreshes: (RefreshAnswer & { peakMiB: number })[] = [];
    const peers: PeerAnswer[] = [];
    let dataDir = '';
    // Each round refreshes its own copy of the same files.
    for (let round = 0; round < ROUNDS; round++) {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
      dataDir = join(root, `round-${round}`);
      await cp(generated, dataDir, { recursive: true });
      scans.push(await child<ScanAnswer>('scan', dataDir));
      const run = await child<RefreshAnswer>('refresh', dataDir);
      if (run.requests !== REQUESTS || run.predictions !== predictions) {
        throw new Error(`the refresh unpacked ${run.requests} requests / ${run.predictions} predictions; expected ${REQUESTS} / ${predictions}`);
      }
      refreshes.push(run);
      if (!missing) peers.push(await peer(dataDir));
    }
    const baseline = medianOf(scans);
    const first = medianOf(refreshes);
    const again = await child<RefreshAnswer>('refresh', dataDir);
    const peerRun = missing ? null : medianOf(peers);
    const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
    const mix = BATCH_SIZES.map(([rows, share]) => `${rows} row${rows > 1 ? 's' : ''} ${share * 100}%`).join(', ');
    const lines = [
      `inference-tables refresh benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      `${fmt(REQUESTS)} captured requests (batch sizes: ${mix}; dataframe_split, dataframe_records, instances, inputs, CSV in turn; ${VALUES} values) = ${fmt(predictions)} predictions, ${files.length} Parquet files, ${fmt(bytes / 2 ** 20)} MiB, 3 days`,
      `medians of ${ROUNDS} round${ROUNDS === 1 ? '' : 's'} (each figure its own median); refresh seconds per round: ${refreshes.map((r) => fmt(r.seconds, 1)).join(', ')}`,
      '',
      '| run | seconds | requests/s | predictions/s | peak RSS MiB |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| DuckDB plain scan of the payload files (baseline) | ${fmt(baseline.seconds, 1)} | ${fmt(REQUESTS / baseline.seconds)} | — | ${fmt(baseline.peakMiB)} |`,
      `| refresh, first run: ${first.tasks} unpack tasks ${fmt(first.unpack, 1)} s (peak ${fmt(first.unpackPeakMiB)} MiB), commit ${fmt(first.commit, 1)} s (peak ${fmt(first.commitPeakMiB)} MiB), metrics ${fmt(first.metrics, 1)} s (peak ${fmt(first.metricsPeakMiB)} MiB) | ${fmt(first.seconds, 1)} | ${fmt(REQUESTS / first.seconds)} | ${fmt(predictions / first.seconds)} | ${fmt(first.peakMiB)} |`,
      `| refresh, second run with no new data | ${fmt(again.seconds, 1)} | — | — | ${fmt(again.peakMiB)} |`,
      peerRun
        ? `| peer: pandas + scipy, one core (\`bench/peer/notebook.py\`: parse, explode, profiles and drift of every window) | ${fmt(peerRun.seconds, 1)} | ${fmt(REQUESTS / peerRun.seconds)} | ${fmt(peerRun.rows / peerRun.seconds)} | ${fmt(peerRun.peakMiB)} |`
        : `| peer: skipped, ${missing} | — | — | — | — |`,
      '',
      `refresh / scan = ${fmt(first.seconds / baseline.seconds, 1)}×${peerRun ? `; refresh / peer = ${fmt(first.seconds / peerRun.seconds, 2)}×` : ''}; rejected rows: ${first.rejected}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const [mode, dataDir] = process.argv.slice(2);
const answer = async (work: Promise<object>) => {
  const result = await work;
  process.stdout.write(`${JSON.stringify({ ...result, peakMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
};
if (mode === 'generate') await generate(dataDir as string);
else if (mode === 'scan') await answer(scan(dataDir as string));
else if (mode === 'refresh') await answer(refresh(dataDir as string));
else await main();
