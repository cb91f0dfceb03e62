import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/config.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-cli-'));
  const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  await stream.put([
    {
      request_id: 'r1',
      client_request_id: 'c, "quoted"',
      timestamp_ms: 1_795_428_672_345,
      request_time: '2026-11-22 10:11:12.345',
      status_code: 200,
      sampling_fraction: 1,
      execution_time_ms: 3,
      request: '{"inputs":[[1,2,3,4]]}',
      response: '{"predictions":[0]}',
      request_metadata: { model_version: '2' },
      served_entity_id: 'e',
      logging_error_codes: [],
      requester: null,
      endpoint: 'iris',
      date: '2026-11-22',
    },
  ]);
  await stream.close();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('CLI: inference-tables query', () => {
  it('prints JSON rows with maps as objects', async () => {
    const { code, out } = await cli('query', 'SELECT client_request_id, request_metadata FROM iris_payload', '--data-dir', dir, '--format', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([{ client_request_id: 'c, "quoted"', request_metadata: { model_version: '2' } }]);
  });

  it('keeps integers as numbers in JSON at every depth: arrays, maps, rows, and 64-bit counts', async () => {
    const sql = `SELECT count(*) AS n, ARRAY[CAST(1 AS BIGINT), 2] AS a, map(ARRAY['k'], ARRAY[CAST(3 AS BIGINT)]) AS m,
      CAST(ROW(4, ARRAY[5]) AS ROW(x BIGINT, y ARRAY(BIGINT))) AS r, 0.1 + 0.2 AS d FROM iris_payload`;
    const { code, out } = await cli('query', sql, '-d', dir, '-f', 'json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([{ n: 1, a: [1, 2], m: { k: 3 }, r: { x: 4, y: [5] }, d: 0.3 }]);
  });

  it('names a function Athena has but the local engine does not, and the fix', async () => {
    const { code, err } = await cli('query', 'SELECT bing_tile(1, 2, 3) FROM iris_payload', '-d', dir);
    expect(code).toBe(1);
    expect(err).toMatch(/^inference-tables: function bing_tile runs on Athena but not in the local engine; run this query with --env/);
  });

  it('prints CSV with quoting', async () => {
    const { out } = await cli('query', 'SELECT request_id, client_request_id FROM iris_payload', '-d', dir, '-f', 'csv');
    expect(out).toBe('request_id,client_request_id\nr1,"c, ""quoted"""\n');
  });

  it('prints a table by default', async () => {
    const { out } = await cli('query', 'SELECT status_code FROM iris_payload', '-d', dir);
    expect(out).toContain('status_code');
    expect(out).toContain('(1 row)');
  });

  it('names the problem in bad SQL, without a stack trace', async () => {
    const { code, err } = await cli('query', 'SELEC 1', '-d', dir);
    expect(code).toBe(1);
    expect(err).toMatch(/^inference-tables: line 1:1: 'SELEC' is not valid at this position/);
    expect(err).not.toContain('    at ');
  });

  it('rejects an unknown output format as a usage error', async () => {
    expect((await cli('query', 'SELECT 1', '-f', 'xml')).code).toBe(2);
  });

  it('names the invalid field of a bad configuration file', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ environment: 'x', endpoints: [{ name: 'e', served_entities: [] }] }));
    const { code, err } = await cli('query', 'SELECT 1', '-d', dir, '-c', file);
    expect(code).toBe(1);
    expect(err).toContain('endpoints[0].served_entities');
  });
});

describe('CLI: inference-tables serve', () => {
  it('starts, answers, and on SIGTERM delivers what it captured and exits 0', async () => {
    const data = join(dir, 'served');
    const child = spawn(process.execPath, [join(ROOT, 'bin/inference-tables.mjs'), 'serve', '--port', '0', '--data-dir', data, '--buffer-interval', '600'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    while (!/on (http:\/\/\S+)/.test(out)) {
      if (child.exitCode !== null) throw new Error(`serve exited: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = (/on (http:\/\/\S+)/.exec(out) as RegExpExecArray)[1];
    const res = await fetch(`${url}/serving-endpoints/iris/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"client_request_id": "via-cli", "inputs": [[5.1, 3.5, 1.4, 0.2]]}',
    });
    expect(res.status).toBe(200);
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('1 records delivered');
    const { out: rows } = await cli('query', "SELECT client_request_id FROM iris_payload", '-d', data, '-f', 'json');
    expect(JSON.parse(rows)).toEqual([{ client_request_id: 'via-cli' }]);
  });
});
