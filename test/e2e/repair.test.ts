/**
 * `inference-tables repair`, tried as an operator would: a payload folder moved away while
 * traffic went on (the metrics then counted 2 requests for 12 predictions), and a quarantined
 * file replaced with a good copy. doctor says what is wrong and how to fix it; after the fix
 * and `repair`, the tables and metrics equal those a clean history gives.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { ROOT, demoConfig } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';
import { cli } from '../helpers/cli.js';
import { sample } from '../helpers/records.js';

const config = demoConfig();
let dir: string;
let stack: LocalStack;

const post = (body: unknown) =>
  fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => {
    expect(r.status).toBe(200);
  });
const traffic = async (prefix: string, n: number) => {
  for (let i = 0; i < n; i++) await post({ client_request_id: `${prefix}-${i}`, inputs: [[5 + i / 10, 3.1, 1.2 + (i % 3), 0.2 + (i % 2)]] });
  await stack.stream.flush();
};
const refresh = (folder = dir) => runLocalRefresh({ config, dataDir: folder, projectRoot: ROOT, unpackThreads: 1 });
/** The metrics users read, without what differs between runs (their ids and times). */
const metrics = (folder = dir) =>
  queryRows(
    folder,
    config,
    `SELECT granularity, window_start, model_id, column_name, slice_key, slice_value, count, num_nulls, avg, median, distinct_count, request_count, error_rate, partial_reason
     FROM iris_profile_metrics ORDER BY 1, 2, 3, 4, 5, 6`,
  );
const unpacked = (folder = dir) => queryRows(folder, config, 'SELECT request_id, row_index, prediction FROM iris_unpacked ORDER BY 1, 2');
const payloadFiles = async (folder = dir) => (await readdir(join(folder, 'iris_payload'), { recursive: true })).filter((f) => f.endsWith('.parquet')).sort();

/** The metrics and unpacked rows a clean history of the same captured files gives: a new folder holding only them, refreshed once. */
async function cleanHistory(): Promise<{ metrics: unknown[]; unpacked: unknown[] }> {
  const clean = await mkdtemp(join(tmpdir(), 'it-repair-clean-'));
  try {
    await cp(join(dir, 'iris_payload'), join(clean, 'iris_payload'), { recursive: true, filter: (src) => !src.includes('_compaction') });
    await refresh(clean);
    return { metrics: await metrics(clean), unpacked: await unpacked(clean) };
  } finally {
    await rm(clean, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-repair-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a payload folder moved away while traffic went on', () => {
  it('is found by doctor, reported by repair until the files are back, and repaired to a clean history', async () => {
    await traffic('first', 10);
    await refresh();
    await rename(join(dir, 'iris_payload'), join(dir, 'iris_payload.moved'));
    await traffic('during', 2);
    await refresh();
    // The damage: the window's metrics count only the requests still in the table.
    const counted = await queryRows(dir, config, "SELECT max(request_count) AS n FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL");
    expect(counted).toEqual([{ n: 2 }]);

    const doctor = await cli('doctor', '--data-dir', dir, '--format', 'json');
    expect(doctor.code).toBe(1);
    const iris = (JSON.parse(doctor.out) as { endpoint: string; checks: { check: string; status: string; message: string }[] }[]).find((h) => h.endpoint === 'iris');
    expect(iris?.checks.find((c) => c.check === 'payload-coverage')).toMatchObject({
      status: 'FAILED',
      message: expect.stringMatching(/^\d+ metrics windows? of iris holds? requests iris_payload no longer has .*Put them back and run 'inference-tables repair', or accept the loss with 'inference-tables repair --accept-missing'\.$/),
    });

    // Repair cannot bring back what is not there: it says so, and changes nothing.
    const early = await cli('repair', '--data-dir', dir, '--endpoint', 'iris');
    expect(early.code).toBe(1);
    expect(early.out).toMatch(/\d+ windows? of iris holds? requests iris_payload no longer has \(first: [^:]+:\d\d:\d\d\.\d+Z: \d+ counted by its metrics, \d+ in iris_payload, \d+ unpacked without their capture\): files are missing/);
    expect(early.err).toMatch(/iris still needs attention/);

    // The operator puts the files back beside the new ones.
    for (const f of await readdir(join(dir, 'iris_payload.moved'), { recursive: true })) {
      if (!String(f).endsWith('.parquet')) continue;
      await mkdir(dirname(join(dir, 'iris_payload', String(f))), { recursive: true });
      await rename(join(dir, 'iris_payload.moved', String(f)), join(dir, 'iris_payload', String(f)));
    }
    await rm(join(dir, 'iris_payload.moved'), { recursive: true });
    const repaired = await cli('repair', '--data-dir', dir, '--endpoint', 'iris');
    expect(repaired.err).not.toMatch(/unexpected/);
    expect(repaired.code).toBe(0);
    expect(repaired.out).toMatch(/iris: \d+ windows? counted fewer requests than iris_payload now holds \(files came back\): recomputed \(\d+ payload files read again\)/);
    expect(repaired.out).toMatch(/│ iris +│ ACTIVE/);

    const clean = await cleanHistory();
    expect(await unpacked()).toEqual(clean.unpacked);
    expect(await metrics()).toEqual(clean.metrics);
    expect(await cli('doctor', '--data-dir', dir)).toMatchObject({ code: 0 });
    // The list of files to read again is gone with the run that read them.
    await expect(readFile(join(dir, '_refresh', 'state', 'iris.replay.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('a quarantined file replaced with a good copy', () => {
  it('is put back by repair, unpacked, and its windows recomputed to a clean history', async () => {
    await traffic('kept', 3);
    const before = new Set(await payloadFiles());
    await traffic('quarantined', 4);
    const [file] = (await payloadFiles()).filter((f) => !before.has(f));
    const good = await readFile(join(dir, 'iris_payload', file as string));
    await writeFile(join(dir, 'iris_payload', file as string), 'PAR1 torn');
    const run = await refresh();
    expect(run.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ quarantined: 1 });
    // The windows computed without it say so.
    const marked = await queryRows(dir, config, "SELECT DISTINCT partial_reason AS reason FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND partial_reason IS NOT NULL");
    expect(marked).toEqual([{ reason: `1 payload file of ${new Date().toISOString().slice(0, 10)} in quarantine` }]);
    expect((await cli('doctor', '--data-dir', dir)).code).toBe(1);

    // Still unreadable: repair says so and what to do.
    const early = await cli('repair', '--data-dir', dir, '--endpoint', 'iris');
    expect(early.code).toBe(1);
    expect(early.out).toContain(`still unreadable: iris_payload/${file}`);
    expect(early.out).toContain(`replace _quarantine/iris_payload/${file} with a readable copy and run repair again, or delete it there`);

    await writeFile(join(dir, '_quarantine', 'iris_payload', file as string), good);
    const repaired = await cli('repair', '--data-dir', dir, '--endpoint', 'iris');
    expect(repaired.code).toBe(0);
    expect(repaired.out).toMatch(/iris: 1 quarantined file read again and put back in iris_payload/);
    expect(await queryRows(dir, config, "SELECT count(*) AS n FROM iris_unpacked WHERE client_request_id LIKE 'quarantined-%'")).toEqual([{ n: 4 }]);
    expect((await readdir(join(dir, '_quarantine', 'iris_payload'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile())).toEqual([]);

    const clean = await cleanHistory();
    expect(await unpacked()).toEqual(clean.unpacked);
    expect(await metrics()).toEqual(clean.metrics);
    expect(await cli('doctor', '--data-dir', dir)).toMatchObject({ code: 0 });
  });
});

describe('payload files lost for good', () => {
  it('are reported until the operator accepts the loss; then the windows are recomputed from what is left and doctor is content', async () => {
    const [lost] = await payloadFiles();
    await rm(join(dir, 'iris_payload', lost as string));
    expect((await cli('doctor', '--data-dir', dir)).code).toBe(1);
    const accepted = await cli('repair', '--data-dir', dir, '--endpoint', 'iris', '--accept-missing');
    expect(accepted.code).toBe(0);
    expect(accepted.out).toMatch(/iris: \d+ windows? with missing files recomputed from what is left, as asked/);
    const left = await queryRows(dir, config, 'SELECT count(DISTINCT request_id) AS n FROM iris_payload');
    const counted = await queryRows(dir, config, "SELECT sum(request_count) AS n FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND granularity = '1 hour'");
    expect(counted).toEqual(left);
    expect(await cli('doctor', '--data-dir', dir)).toMatchObject({ code: 0 });
  });
});

describe('records the conversion refused', () => {
  it('are counted by doctor; repair puts back those valid now through the spill and names the others', async () => {
    // With the server stopped, repair delivers the replayed records itself.
    await stack.close();
    const now = Date.now();
    const record = {
      ...sample,
      request_id: 'refused-r0',
      client_request_id: 'refused-0',
      timestamp_ms: now,
      request_time: new Date(now).toISOString().replace('T', ' ').slice(0, 23),
      date: new Date(now).toISOString().slice(0, 10),
      request: '{"inputs":[[5.1,3.5,1.4,0.2]]}',
      response: '{"predictions":[0]}',
    };
    const line = (raw: unknown) =>
      JSON.stringify({ attemptsMade: 1, arrivalTimestamp: now, errorCode: 'DataFormatConversion.InvalidSchema', errorMessage: 'column status_code: expected int', rawData: Buffer.from(JSON.stringify(raw)).toString('base64') });
    const folder = join(dir, 'errors', 'format-conversion-failed', `date=${record.date}`);
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'inference-tables-1-refused.json'), `${line(record)}\n${line({ endpoint: 'iris', request_id: 5 })}\n`);

    const doctor = await cli('doctor', '--data-dir', dir, '--format', 'json');
    const iris = (JSON.parse(doctor.out) as { endpoint: string; checks: { check: string; status: string; message: string; count?: number }[] }[]).find((h) => h.endpoint === 'iris');
    expect(iris?.checks.find((c) => c.check === 'delivery-errors')).toMatchObject({
      status: 'DEGRADED',
      count: 2,
      message: expect.stringMatching(/^2 records of iris were refused by the Parquet conversion and are in no table \(first: DataFormatConversion\.InvalidSchema: column status_code: expected int\); kept under errors\/\. Fix the cause .* run 'inference-tables repair' to replay them\.$/),
    });

    const repaired = await cli('repair', '--data-dir', dir, '--endpoint', 'iris');
    expect(repaired.out).toMatch(/iris: 1 record the conversion had refused put back through the spill/);
    expect(repaired.out).toContain('1 refused record of iris still not valid (first, in errors/format-conversion-failed/');
    expect(repaired.out).toContain('1 replayed records delivered to the payload tables');
    expect(repaired.code).toBe(1);
    expect(await queryRows(dir, config, "SELECT count(*) AS n FROM iris_unpacked WHERE client_request_id = 'refused-0'")).toEqual([{ n: 1 }]);
    // Only the record that is still not valid is left.
    expect((await readFile(join(folder, 'inference-tables-1-refused.json'), 'utf8')).trim().split('\n')).toHaveLength(1);
  });
});
