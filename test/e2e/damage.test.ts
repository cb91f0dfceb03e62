/**
 * Damage an operator meets over months, tried on the local stack: a payload file that cannot
 * be read, and one endpoint whose commit fails. Neither stops the others: the bad file leaves
 * its table for the quarantine, with its reason, and the failed endpoint is recorded and
 * taken again by the next run, while every other endpoint is refreshed.
 */
import { mkdtemp, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefreshFailedError } from '../../lambdas/core/refresh-steps.js';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { ROOT, demoConfig } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';
import { cli } from '../helpers/cli.js';
import { normalizeLabelsFile } from '../../lambdas/adapters/local/labels-file.js';
import { openDuckDb } from '../../lambdas/adapters/local/duckdb.js';
import { PAYLOAD_COLUMNS_READ } from '../../lambdas/core/unpack-batch.js';
import { synthesize } from '../helpers/stacks.js';

const config = demoConfig();
let dir: string;
let stack: LocalStack;

const post = (path: string, body: unknown) =>
  fetch(`${stack.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => {
    expect(r.status).toBe(200);
  });
const count = async (sql: string) => Number(Object.values((await queryRows(dir, config, sql))[0] ?? {})[0]);
const files = async (folder: string) => (await readdir(join(dir, folder), { recursive: true })).filter((f) => f.endsWith('.parquet'));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-damage-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a payload file that cannot be read', () => {
  it('is moved to the quarantine with its reason, and every other file and endpoint is refreshed', async () => {
    // Two files for iris (one will be damaged), one for chat.
    for (let i = 0; i < 3; i++) await post('/serving-endpoints/iris/invocations', { client_request_id: `good-${i}`, inputs: [[5.1, 3.5, 1.4, 0.2 + i / 10]] });
    await stack.stream.flush();
    const [first] = await files('iris_payload');
    for (let i = 0; i < 2; i++) await post('/serving-endpoints/iris/invocations', { client_request_id: `lost-${i}`, inputs: [[6.2, 2.9, 4.3, 1.3]] });
    await stack.stream.flush();
    await post('/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'still here' }] });
    await stack.stream.flush();
    // The file of the second delivery: the two requests it holds are the ones lost.
    const second = (await files('iris_payload')).find((f) => f !== first);
    expect(second).toBeDefined();
    // A disk error, a partial copy: the file is no longer Parquet.
    await writeFile(join(dir, 'iris_payload', second as string), 'PAR1 this is not a parquet file');

    const result = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    const iris = result.reports.find((r) => r.endpoint === 'iris');
    expect(iris).toMatchObject({ files: 2, requests: 3, predictions: 3, quarantined: 1 });
    expect(result.reports.find((r) => r.endpoint === 'chat')).toMatchObject({ predictions: 1 });

    // Out of the table (so every query of it works), into the quarantine, with why.
    expect(await files('iris_payload')).toEqual([first]);
    expect(await count('SELECT count(*) FROM iris_payload')).toBe(3);
    const kept = join(dir, '_quarantine', 'iris_payload', second as string);
    expect((await readFile(kept, 'utf8')).startsWith('PAR1 this is not')).toBe(true);
    expect(JSON.parse(await readFile(`${kept}.reason.json`, 'utf8'))).toMatchObject({ key: `iris_payload/${second}`, reason: expect.stringMatching(/^not a readable payload file: /), run_id: result.run_id });
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id LIKE 'good-%'")).toBe(3);

    // The next run does not meet it again.
    const next = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(next.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 0 });

    // The endpoint API says so, with the fix, and no local path.
    const table = await payloadTable('iris');
    expect(table.status).toBe('DEGRADED');
    expect(table.status_message).toMatch(/^1 file of iris_payload could not be read and is in _quarantine\/iris_payload\/ \(first: not a readable payload file: .*\); their requests are in no table\. Replace each with a readable copy or delete it there/);
    expect(table.status_message).not.toContain(dir);
    expect(await payloadTable('chat')).toMatchObject({ status: 'ACTIVE' });
  });
});

/** The payload table's state as the endpoint API reports it. */
async function payloadTable(endpoint: string): Promise<{ status: string; status_message: string }> {
  const body = (await (await fetch(`${stack.server.url}/api/2.0/serving-endpoints/${endpoint}`)).json()) as { config: { auto_capture_config: { state: { payload_table: { status: string; status_message: string } } } } };
  return body.config.auto_capture_config.state.payload_table;
}

describe('a payload table whose folder was moved', () => {
  it('is FAILED in doctor and the endpoint API, with the cause and the fix, and ACTIVE again once the files are back', async () => {
    await rename(join(dir, 'iris_payload'), join(dir, 'iris_payload.moved'));
    const found = await cli('doctor', '--data-dir', dir, '--format', 'json');
    expect(found.code).toBe(1);
    expect(found.err).toMatch(/endpoints need attention: .*iris \(FAILED\)/);
    const iris = (JSON.parse(found.out) as { endpoint: string; status: string; checks: { check: string; status: string; message: string }[] }[]).find((h) => h.endpoint === 'iris');
    expect(iris?.status).toBe('FAILED');
    expect(iris?.checks.find((c) => c.check === 'payload-files')).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/^iris_payload holds no file of \d{4}-\d{2}-\d{2}, though the refresh read files of that day: its files were moved or deleted/) });
    expect(await payloadTable('iris')).toMatchObject({ status: 'FAILED', status_message: expect.stringContaining('Put them back under iris_payload/') });

    await rename(join(dir, 'iris_payload.moved'), join(dir, 'iris_payload'));
    // And the quarantined file, once dealt with (here: deleted), no longer degrades the table.
    await rm(join(dir, '_quarantine'), { recursive: true, force: true });
    const healed = await cli('doctor', '--data-dir', dir);
    expect(healed.code).toBe(0);
    expect(await payloadTable('iris')).toMatchObject({ status: 'ACTIVE', status_message: expect.stringMatching(/^Delivering to iris_payload every 0 s\. Every check passed at /) });
  });
});

describe('an endpoint whose commit fails', () => {
  it('is recorded and retried by the next run, while the other endpoints are refreshed', async () => {
    await post('/serving-endpoints/iris/invocations', { client_request_id: 'after-1', inputs: [[5.9, 3.0, 5.1, 1.8]] });
    await post('/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'and again' }] });
    await stack.stream.flush();
    const chatBefore = await count('SELECT count(*) FROM chat_unpacked');
    const failing = runLocalRefresh({
      config,
      dataDir: dir,
      projectRoot: ROOT,
      unpackThreads: 1,
      // The engine refuses iris's statements only.
      stepOverrides: {
        RunStatement: (input, original) => ((input as { QueryString: string }).QueryString.includes('iris_unpacked') ? Promise.reject(new Error('iris_unpacked is locked')) : original(input)),
      },
    });
    await expect(failing).rejects.toThrow(RefreshFailedError);
    await expect(failing).rejects.toThrow(/^Refresh failed: iris: iris_unpacked is locked\. .*chat.* refreshed; the failed endpoints' files are taken again by the next run\.$/);
    expect(await count('SELECT count(*) FROM chat_unpacked')).toBe(chatBefore + 1);
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id = 'after-1'")).toBe(0);
    expect(JSON.parse(await readFile(join(dir, '_refresh', 'state', 'iris.failure.json'), 'utf8'))).toMatchObject({ endpoint: 'iris', cause: 'iris_unpacked is locked' });

    const next = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(next.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ files: 1, predictions: 1 });
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id = 'after-1'")).toBe(1);
  });
});

describe('a bad label file', () => {
  it('is refused at upload, naming the rows; one that got in anyway never replaces a good label, and is counted and named', async () => {
    const labels = async (name: string, rows: string) => {
      const path = join(dir, name);
      await writeFile(path, `client_request_id,label\n${rows}`);
      return path;
    };
    const good = await cli('labels', 'upload', await labels('good.csv', 'good-0,0\ngood-1,0\nnobody-0,1\n'), '--endpoint', 'iris', '--data-dir', dir);
    expect(good.code).toBe(0);
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id IN ('good-0', 'good-1') AND label = 0")).toBe(2);

    // The predictions are integers: 'setosa' is refused before anything is stored.
    const bad = await cli('labels', 'upload', await labels('bad.csv', 'good-1,1\ngood-0,setosa\n'), '--endpoint', 'iris', '--data-dir', dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('1 label cannot be read as BIGINT, the type of iris\'s predictions: row 2 ("setosa")');

    // Uploaded before the type was known (or written by hand), it is left out at refresh.
    const sneaked = await normalizeLabelsFile(await labels('sneaked.csv', 'good-0,setosa\n'), 'iris', { now: new Date(Date.now() + 1000) });
    // Same day as the upload above: its partition folder exists.
    await writeFile(join(dir, sneaked.key), sneaked.body);
    const result = await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    expect(result.reports.find((r) => r.endpoint === 'iris')).toMatchObject({ labels_refused: 1, labels_unmatched: 1 });
    // The good label stands.
    expect(await count("SELECT count(*) FROM iris_unpacked WHERE client_request_id = 'good-0' AND label = 0")).toBe(1);
    // Both kept out, each with why, in a table users query.
    expect(await queryRows(dir, config, 'SELECT client_request_id, row_index, label, reason FROM iris_label_rejects ORDER BY client_request_id')).toEqual([
      { client_request_id: 'good-0', row_index: 0, label: 'setosa', reason: 'cannot be read as BIGINT, the type of the predictions' },
      { client_request_id: 'nobody-0', row_index: 0, label: '1', reason: 'matches no captured prediction' },
    ]);
    const table = await payloadTable('iris');
    expect(table.status).toBe('DEGRADED');
    expect(table.status_message).toMatch(/^1 label of iris cannot be read as BIGINT, the type of its predictions \(latest: "setosa" for good-0 row 0, uploaded [^)]+\); they are kept out of iris_unpacked and replaced no good label/);
    expect(table.status_message).toContain('1 label of iris match no captured prediction');
  });
});

describe('a Glue table whose schema was changed outside the product', () => {
  it('is FAILED in doctor, naming the column and the redeploy; the files written meanwhile stay readable; a file with the template schema heals it', async () => {
    // What Firehose writes once someone drops a column of the deployed Glue table: the template's columns but one.
    const { template } = synthesize(config);
    const glue = Object.values(template.findResources('AWS::Glue::Table')).find((r) => r.Properties.TableInput.Name === 'iris_payload');
    const columns = (glue?.Properties.TableInput.StorageDescriptor.Columns as { Name: string }[]).map((c) => c.Name);
    const dropped = columns.filter((c) => !(PAYLOAD_COLUMNS_READ as readonly string[]).includes(c)).at(-1) as string;
    expect(columns).toContain(dropped);
    await post('/serving-endpoints/iris/invocations', { client_request_id: 'schema-0', inputs: [[5.1, 3.5, 1.4, 0.2]] });
    await stack.stream.flush();
    await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT, unpackThreads: 1 });
    const today = new Date().toISOString().slice(0, 10);
    const partition = join(dir, 'iris_payload', 'endpoint=iris', `date=${today}`);
    const [source] = (await readdir(partition)).filter((f) => f.endsWith('.parquet'));
    const edited = join(partition, 'inference-tables-1-edited-schema.parquet');
    const rowsBefore = await count('SELECT count(*) FROM iris_payload');
    const { instance, connection } = await openDuckDb();
    let copied: number;
    try {
      copied = Number((await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${join(partition, source as string)}')`)).getRows()[0]?.[0]);
      const kept = columns.filter((c) => c !== dropped).map((c) => `"${c}"`).join(', ');
      await connection.run(`COPY (SELECT ${kept} FROM read_parquet('${join(partition, source as string)}')) TO '${edited}' (FORMAT parquet)`);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    await utimes(edited, new Date(), new Date(Date.now() + 1000));
    const found = await cli('doctor', '--data-dir', dir, '--format', 'json');
    expect(found.code).toBe(1);
    const iris = (JSON.parse(found.out) as { endpoint: string; checks: { check: string; status: string; message: string }[] }[]).find((h) => h.endpoint === 'iris');
    expect(iris?.checks.find((c) => c.check === 'payload-schema')).toMatchObject({
      status: 'FAILED',
      message: `The newest file of iris_payload lacks the capture schema's columns ${dropped}: the table's schema was changed outside the product (the Glue table or the Firehose conversion). Redeploy the environment (cdk deploy) to restore it; files written meanwhile stay in the table.`,
    });
    // Every query still reads the table, that file included (its missing column reads as NULL).
    expect(copied).toBeGreaterThan(0);
    expect(await count('SELECT count(*) FROM iris_payload')).toBe(rowsBefore + copied);

    // After the redeploy, files have the template's columns again.
    await post('/serving-endpoints/iris/invocations', { client_request_id: 'schema-1', inputs: [[5.1, 3.5, 1.4, 0.2]] });
    await stack.stream.flush();
    const files = (await readdir(partition)).filter((f) => f.endsWith('.parquet') && f !== 'inference-tables-1-edited-schema.parquet');
    for (const f of files) await utimes(join(partition, f), new Date(), new Date(Date.now() + 2000));
    const healed = await cli('doctor', '--data-dir', dir, '--format', 'json');
    const after = (JSON.parse(healed.out) as { endpoint: string; checks: { check: string; status: string }[] }[]).find((h) => h.endpoint === 'iris');
    expect(after?.checks.find((c) => c.check === 'payload-schema')).toMatchObject({ status: 'ACTIVE' });
  });
});
