/**
 * Data written by an earlier release stays readable and is upgraded in place: the data folder
 * release 6a8e4a9 left (`test/fixtures/releases/`) is read with the same answers that release
 * gave, refreshed, and appended to by the current stack, whose next refresh unpacks the new
 * requests beside the old rows.
 */
import { cp, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, configWith, demoConfig } from '../helpers/config.js';
import { runLocalMaintenance } from '../../lambdas/wiring/local-maintenance.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const RELEASE = join(ROOT, 'test', 'fixtures', 'releases', '6a8e4a9');
const config = demoConfig();
let dir: string;

/** One figure of a query. */
const figure = async (sql: string) => Number(Object.values((await queryRows(dir, config, sql))[0] ?? {})[0]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-release-'));
  await cp(RELEASE, dir, { recursive: true });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the data folder of release 6a8e4a9', () => {
  it('is read with the answers that release gave', async () => {
    expect(await figure('SELECT count(*) FROM iris_payload')).toBe(25);
    // Columns added since read as NULL in its files.
    expect(await queryRows(dir, config, 'SELECT count(*) AS n, count(request_format) AS formats, count(streamed) AS streamed, count(time_to_first_token_ms) AS ttft, count(input_tokens) + count(output_tokens) + count(tokens_counted) AS tokens FROM iris_payload')).toEqual([{ n: 25, formats: 0, streamed: 0, ttft: 0, tokens: 0 }]);
    expect(await queryRows(dir, config, 'SELECT count(*) AS n, count(label) AS labeled FROM iris_unpacked')).toEqual([{ n: 30, labeled: 18 }]);
    expect(await figure('SELECT count(*) FROM iris_classifier_unpacked')).toBe(6);
    expect(await figure('SELECT count(*) FROM chat_unpacked')).toBe(3);
    expect(await figure('SELECT count(*) FROM iris_profile_metrics')).toBe(98);
    expect(await figure('SELECT count(*) FROM iris_drift_metrics')).toBe(70);
    expect(await figure('SELECT count(*) FROM iris_alerts')).toBe(2);
    expect(await figure("SELECT accuracy_score FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND granularity = '1 day'")).toBeCloseTo(8 / 9, 12);
  });

  it('is refreshed: nothing new to unpack, nothing lost', async () => {
    const result = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(result.reports.map((r) => [r.endpoint, r.files])).toEqual(expect.arrayContaining([['iris', 0]]));
    expect(await figure('SELECT count(*) FROM iris_unpacked')).toBe(30);
  });

  it('is appended to by the current stack, and the next refresh unpacks the new requests beside the old rows', async () => {
    const stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_request_id: `after-${i}`, inputs: [[5.9, 3.0, 5.1, 1.8]] }),
        });
        expect(res.status).toBe(200);
      }
    } finally {
      await stack.close();
    }
    expect(await figure('SELECT count(*) FROM iris_payload')).toBe(29);
    const result = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(result.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 1, predictions: 4, rejected: 0 });
    expect(await figure('SELECT count(*) FROM iris_unpacked')).toBe(34);
    expect(await figure("SELECT count(*) FROM iris_unpacked WHERE client_request_id LIKE 'release-%'")).toBe(24);
    expect(await figure('SELECT count(label) FROM iris_unpacked')).toBe(18);
    expect(await figure('SELECT count(*) FROM iris_profile_metrics')).toBeGreaterThanOrEqual(98);
    // Its metrics tables took the columns added since (its rows read them as NULL).
    expect(await figure('SELECT count(*) FROM iris_profile_metrics WHERE partial_reason IS NULL')).toBeGreaterThanOrEqual(98);
  });

  it('is compacted with the new files: the old files gain the columns added since, every row read once, nothing unpacked again', async () => {
    const before = await queryRows(dir, config, 'SELECT * FROM iris_payload ORDER BY request_id');
    const table = join(dir, 'iris_payload');
    const files = (await readdir(table, { recursive: true })).filter((f) => f.endsWith('.parquet'));
    expect(files.length).toBeGreaterThan(1);
    // Old enough to be compacted; the fixture's dates kept whatever today is.
    for (const f of files) await utimes(join(table, f), new Date(), new Date(Date.now() - 3 * 3_600_000));
    const kept = configWith((raw) => (raw.retention = { payload_days: 36_500, labels_days: 36_500 }));
    await runLocalMaintenance({ config: kept, dataDir: dir, graceMs: 0 });
    await runLocalMaintenance({ config: kept, dataDir: dir, graceMs: 0 });
    const after = (await readdir(table, { recursive: true })).filter((f) => f.endsWith('.parquet'));
    expect(after.length).toBeLessThan(files.length);
    expect(after.every((f) => f.includes('compacted-'))).toBe(true);
    expect(await queryRows(dir, config, 'SELECT * FROM iris_payload ORDER BY request_id')).toEqual(before);
    const result = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(result.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 0 });
    expect(await figure('SELECT count(*) FROM iris_unpacked')).toBe(34);
  });
});
