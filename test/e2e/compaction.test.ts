/**
 * Compaction on the local stack, tried as an operator would: an hour of traffic (one file a
 * minute), refreshed, then compacted. Every query sees the same rows before, during (the
 * replaced files still on disk) and after; the refresh does not read the compacted rows
 * again; the metrics stay those of a clean history; retention removes what is past it.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { runLocalMaintenance } from '../../lambdas/wiring/local-maintenance.js';
import { ROOT, configWith, demoConfig } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';
import { cli } from '../helpers/cli.js';

const config = demoConfig();
const MINUTES = 60;
let dir: string;
let stack: LocalStack;

const post = (body: unknown) =>
  fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => {
    expect(r.status).toBe(200);
  });
/** Files of the iris payload table on disk, by partition. */
const onDisk = async (folder = dir) => (await readdir(join(folder, 'iris_payload'), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();
/** What users see: every row, in order. */
const rows = (folder = dir) => queryRows(folder, config, 'SELECT request_id, client_request_id, status_code, response, timestamp_ms FROM iris_payload ORDER BY request_id');
const count = async (sql: string) => Number(Object.values((await queryRows(dir, config, sql))[0] ?? {})[0]);
const metrics = () => queryRows(dir, config, 'SELECT * FROM iris_profile_metrics ORDER BY 1, 2, 3, 4, 5');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-compact-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  // An hour of traffic: one delivery a minute, three requests each.
  for (let m = 0; m < MINUTES; m++) {
    for (let i = 0; i < 3; i++) await post({ client_request_id: `m${m}-${i}`, inputs: [[5 + (m % 7) / 10, 3.1, 1.2 + i / 10, 0.2]] });
    await stack.stream.flush();
  }
  // Files carry the minute they were delivered in, as an hour of real traffic would.
  const files = await onDisk();
  const times = await Promise.all(files.map(async (f) => ({ f, t: (await stat(join(dir, 'iris_payload', f))).mtimeMs })));
  times.sort((a, b) => a.t - b.t);
  const start = Date.now() - (MINUTES + 20) * 60_000;
  for (const [i, { f }] of times.entries()) await utimes(join(dir, 'iris_payload', f), new Date(), new Date(start + i * 60_000));
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('an hour of traffic, then compaction', () => {
  let clean: Awaited<ReturnType<typeof rows>>;
  let cleanMetrics: Awaited<ReturnType<typeof metrics>>;
  /** Files the hour and the minute of now were delivered in (the delivery may merge or split the minutes' batches). */
  let delivered = 0;

  it('starts from one file a minute, refreshed', async () => {
    expect((await onDisk()).length).toBeGreaterThanOrEqual(MINUTES / 2);
    const first = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(first.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ requests: MINUTES * 3 });
    // Traffic goes on: a file of now, which moves the watermark past the hour.
    await post({ client_request_id: 'now', inputs: [[6.1, 2.8, 4.7, 1.2]] });
    await stack.stream.flush();
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    clean = await rows();
    cleanMetrics = await metrics();
    expect(clean).toHaveLength(MINUTES * 3 + 1);
    expect(cleanMetrics.length).toBeGreaterThan(0);
  });

  it('leaves one file per partition-hour, and every query sees each row once while the replaced files wait', async () => {
    const before = await onDisk();
    delivered = before.length;
    const report = await runLocalMaintenance({ config, dataDir: dir });
    const iris = report.compaction.find((t) => t.table === 'iris_payload');
    // Every file the refresh has read, except the one of now (within the listing margin of the watermark).
    expect(iris).toMatchObject({ replaced: before.length - 1, rows: MINUTES * 3, deleted: 0, unreadable: [] });
    // The replaced files are still there, hidden, for queries that listed them.
    expect((await onDisk()).length).toBe(before.length + iris!.partitions);
    expect(await rows()).toEqual(clean);
    expect(await count('SELECT count(*) - count(DISTINCT request_id) FROM iris_payload')).toBe(0);
  });

  it('is not read again by the refresh, and the tables and metrics stay those of a clean history', async () => {
    const next = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(next.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 0 });
    expect(await count('SELECT count(*) FROM iris_unpacked')).toBe(MINUTES * 3 + 1);
    expect(await metrics()).toEqual(cleanMetrics);
  });

  it('deletes the replaced files after the grace period (compact --now), and the table reads the same', async () => {
    const { code, out } = await cli('compact', '--data-dir', dir, '--now');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`iris_payload: nothing to compact; ${delivered - 1} replaced files deleted`));
    const files = await onDisk();
    // The compacted hour, and the file of now.
    expect(files.filter((f) => f.includes('/compacted-'))).toHaveLength(1);
    expect(files).toHaveLength(2);
    expect(await rows()).toEqual(clean);
    // Nothing is left of the compaction's work but the live manifest.
    expect(await readdir(join(dir, 'iris_payload', '_compaction'))).toHaveLength(1);
  });

  it('appends: new traffic is captured and refreshed beside the compacted file', async () => {
    await post({ client_request_id: 'later', inputs: [[5.9, 3.0, 5.1, 1.8]] });
    await stack.stream.flush();
    const later = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(later.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 1, requests: 1 });
    expect(await count('SELECT count(*) FROM iris_payload')).toBe(MINUTES * 3 + 2);
    expect(await count('SELECT count(*) FROM iris_unpacked')).toBe(MINUTES * 3 + 2);
  });

  it('applies the retention to payload partitions, delivery errors, labels and the quarantine', async () => {
    const old = { payload: join(dir, 'iris_payload', 'endpoint=iris', 'date=2001-01-01'), labels: join(dir, 'iris_labels', 'uploaded=2001-01-01'), errors: join(dir, 'errors', 'format-conversion-failed', 'date=2001-01-01') };
    for (const d of Object.values(old)) await mkdir(d, { recursive: true });
    const quarantined = join(dir, '_quarantine', 'iris_payload', 'old.parquet');
    await mkdir(join(dir, '_quarantine', 'iris_payload'), { recursive: true });
    await writeFile(quarantined, 'x');
    await utimes(quarantined, new Date(), new Date(Date.now() - 31 * 86_400_000));
    const report = await runLocalMaintenance({ config, dataDir: dir });
    expect(report.retention).toEqual({
      payload: ['iris_payload/endpoint=iris/date=2001-01-01', 'errors/format-conversion-failed/date=2001-01-01'],
      labels: ['iris_labels/uploaded=2001-01-01'],
      quarantine: ['_quarantine/iris_payload/old.parquet'],
    });
    expect(await count('SELECT count(*) FROM iris_payload')).toBe(MINUTES * 3 + 2);
  });

  it('trims the unpacked and metrics tables to their retention, once a day, in the refresh', async () => {
    // Rows of long ago, as years of history would hold.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const warehouse = await DuckDBInstance.create(join(dir, 'warehouse.duckdb'));
    const db = await warehouse.connect();
    await db.run(`INSERT INTO iris_unpacked SELECT * REPLACE (DATE '2001-01-01' AS "date", 'old-' || request_id AS request_id) FROM iris_unpacked LIMIT 1`);
    await db.run(`INSERT INTO iris_profile_metrics SELECT * REPLACE (TIMESTAMP '2001-01-01 00:00:00' AS window_start) FROM iris_profile_metrics LIMIT 1`);
    db.closeSync();
    warehouse.closeSync();
    const old = async () => [await count(`SELECT count(*) FROM iris_unpacked WHERE "date" < DATE '2002-01-01'`), await count(`SELECT count(*) FROM iris_profile_metrics WHERE window_start < TIMESTAMP '2002-01-01 00:00:00'`)];
    expect(await old()).toEqual([1, 1]);
    // Today's upkeep is done: the next run leaves them.
    await post({ client_request_id: 'trim-0', inputs: [[5.1, 3.5, 1.4, 0.2]] });
    await stack.stream.flush();
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(await old()).toEqual([1, 1]);
    // The first run of a day does it.
    const key = join(dir, '_refresh', 'state', 'iris.json');
    const state = JSON.parse(await readFile(key, 'utf8')) as Record<string, unknown>;
    expect(state.maintained_on).toBe(new Date().toISOString().slice(0, 10));
    await writeFile(key, JSON.stringify({ ...state, maintained_on: '2001-01-01' }));
    await post({ client_request_id: 'trim-1', inputs: [[5.1, 3.5, 1.4, 0.2]] });
    await stack.stream.flush();
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(await old()).toEqual([0, 0]);
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id = 'trim-1'")).toBe(1);
  });

  it('refuses to run beside a refresh, saying so', async () => {
    const running = runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    const result = await cli('compact', '--data-dir', dir);
    await running;
    // Either it ran before or after the refresh took the folder, or it said why not.
    if (result.code !== 0) expect(result.err).toMatch(/^inference-tables: A refresh or compaction is running on .* \(in this process\); try again when it ends\n$/);
  });
});

/** Runs a compaction in its own process and kills it (SIGKILL) when it reaches `stage`. */
async function killAt(folder: string, stage: string, graceMs: number): Promise<'killed' | 'done'> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../helpers/compact-child.ts'), folder, stage, String(graceMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const outcome = await new Promise<'killed' | 'done'>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(`AT ${stage}`)) {
        child.kill('SIGKILL');
        done('killed');
      } else if (text.includes('DONE')) done('done');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? undefined : code === 0 ? done('done') : fail(new Error(`compaction exited with ${code}`))));
  });
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
  return outcome;
}

describe('kill -9 during compaction', () => {
  let template: string;
  let clean: Awaited<ReturnType<typeof rows>>;

  beforeAll(async () => {
    // The compacted table of the first part, with its replaced files still waiting, and new files beside it.
    template = await mkdtemp(join(tmpdir(), 'it-compact-kill-'));
    await cp(dir, template, { recursive: true, preserveTimestamps: true });
    clean = await rows(template);
  });

  afterAll(async () => {
    await rm(template, { recursive: true, force: true });
  });

  it.each(['manifest', 'written', 'committed', 'deleted'])('leaves the table readable, each row once, when killed at "%s"; the next run finishes the work', async (stage) => {
    const folder = await mkdtemp(join(tmpdir(), `it-compact-${stage}-`));
    try {
      await cp(template, folder, { recursive: true, preserveTimestamps: true });
      // Files old enough to be compacted now, so each step of a compaction happens.
      for (const f of await onDisk(folder)) await utimes(join(folder, 'iris_payload', f), new Date(), new Date(Date.now() - 3 * 3_600_000));
      await runLocalRefresh({ config, dataDir: folder, projectRoot: ROOT, unpackThreads: 1 });
      // Deletion happens in the run after a commit.
      if (stage === 'deleted') await runLocalMaintenance({ config, dataDir: folder });
      const killed = await killAt(folder, stage, 0);
      expect(killed).toBe('killed');
      expect(await rows(folder)).toEqual(clean);
      // The next run cleans up what the killed one left and completes the compaction.
      await runLocalMaintenance({ config, dataDir: folder, graceMs: 0 });
      await runLocalMaintenance({ config, dataDir: folder, graceMs: 0 });
      expect(await rows(folder)).toEqual(clean);
      expect(await onDisk(folder)).toHaveLength(1);
      const work = await readdir(join(folder, 'iris_payload', '_compaction'));
      expect(work.filter((f) => !f.endsWith('.json'))).toEqual([]);
      expect(work).toHaveLength(1);
      // The refresh does not read the compacted rows again.
      const after = await runLocalRefresh({ config, dataDir: folder, projectRoot: ROOT, unpackThreads: 1 });
      expect(after.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 0 });
      expect(await count(`SELECT count(*) FROM iris_payload`)).toBeGreaterThan(0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the server', () => {
  it('compacts on its schedule (local.compact_minutes)', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'it-compact-server-'));
    const quick = configWith((raw) => (raw.local = { ...raw.local, compact_minutes: 0.01, compact_grace_minutes: 0 }));
    const server = await startLocalStack({ config: quick, dataDir: folder, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2 + i]] }) });
        expect(res.status).toBe(200);
        await server.stream.flush();
      }
      // As if delivered an hour ago: old enough for a table no refresh reads yet.
      for (const f of await onDisk(folder)) await utimes(join(folder, 'iris_payload', f), new Date(), new Date(Date.now() - 3_600_000));
      const deadline = Date.now() + 20_000;
      while ((await onDisk(folder)).length !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await onDisk(folder)).toEqual([expect.stringMatching(/\/compacted-[^/]+\.parquet$/)]);
      expect(await queryRows(folder, config, 'SELECT count(*) AS n FROM iris_payload')).toEqual([{ n: 3 }]);
    } finally {
      await server.close();
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});
