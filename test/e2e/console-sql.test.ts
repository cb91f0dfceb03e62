import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../lambdas/ui/console.js';
import { localUiSource } from '../../lambdas/wiring/local-ui.js';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { ROOT, demoConfig } from '../helpers/config.js';
import { runLocalRefresh, startLocalStack } from '../helpers/local.js';

/**
 * The SQL console's route on the local server: Athena's SQL on the tables, read-only and
 * confined to the data folder, a bounded answer within a time limit; each way out tried.
 */
const config = demoConfig();
let dir: string;
let stack: LocalStack;

const ask = async (sql: string) => {
  const res = await fetch(`${stack.server.url}/api/sql?q=${encodeURIComponent(sql)}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-console-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  for (const id of ['order-41', 'order-42']) {
    const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_request_id: id, dataframe_records: [{ 'sepal length (cm)': 5.1, 'sepal width (cm)': 3.5, 'petal length (cm)': 1.4, 'petal width (cm)': 0.2 }] }),
    });
    expect(res.status).toBe(200);
  }
  await stack.stream.flush();
  await runLocalRefresh({ config, dataDir: dir, projectRoot: ROOT });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the SQL console', () => {
  it('answers a query, and finds a request by its client_request_id', async () => {
    expect(await ask('SELECT status_code, count(*) FROM iris_payload GROUP BY 1')).toEqual({
      status: 200,
      body: { columns: ['status_code', '_col1'], rows: [{ status_code: 200, _col1: 2 }], truncated: false, max_rows: 1000, elapsed_ms: expect.any(Number) },
    });
    const found = await ask(`SELECT p.client_request_id, count(*) AS predictions FROM iris_payload p JOIN iris_unpacked u ON u.request_id = p.request_id WHERE p.client_request_id = 'order-42' GROUP BY 1`);
    expect(found.body.rows).toEqual([{ client_request_id: 'order-42', predictions: 1 }]);
    // The file pseudo-columns read the data folder, which the confined engine may read.
    expect((await ask(`SELECT count(DISTINCT "$path") > 0 AS files FROM iris_payload`)).body.rows).toEqual([{ files: true }]);
  });

  it('answers SHOW statements', async () => {
    const { status, body } = await ask(`SHOW TABLES 'iris_pay*'`);
    expect(status).toBe(200);
    expect(body.rows).toEqual([{ tab_name: 'iris_payload' }]);
  });

  it('shows a syntax error with its line and column', async () => {
    expect(await ask('SELECT status_code\nFROM iris_payload WHER status_code = 200')).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', line: 2, column: expect.any(Number) } });
    expect((await ask('')).body.message).toMatch(/\?q=/);
  });

  it.each([
    ['a file read by a function', `SELECT read_text('/etc/passwd') AS t`, /read_text is not an Athena function/],
    ['a table function', `SELECT * FROM read_csv('/etc/passwd')`, /not valid at this position/],
    ['a table function as Trino writes one', `SELECT * FROM TABLE(read_csv('/etc/passwd'))`, /table functions \(TABLE\(…\)\) run only on Athena/],
    ['a file named as a table', `SELECT * FROM '/etc/passwd'`, /not valid at this position/],
    ['a file written', `COPY (SELECT 1) TO '/tmp/console-escape.csv'`, /not valid at this position|run only on Athena/],
    ['a database attached', `ATTACH '/tmp/console-escape.db' AS other`, /not valid at this position|run only on Athena/],
    ['an extension installed', 'INSTALL httpfs', /not valid at this position|run only on Athena/],
    ['an extension loaded', 'LOAD httpfs', /not valid at this position|run only on Athena/],
    ['a setting changed', 'SET SESSION enable_external_access = true', /SET statements run only on Athena/],
    ['a pragma', 'PRAGMA version', /not valid at this position|run only on Athena/],
    ['a table created', 'CREATE TABLE t AS SELECT 1 AS x', /CREATE statements run only on Athena/],
    ['a table dropped', 'DROP TABLE iris_payload', /DROP statements run only on Athena/],
    ['rows inserted', `INSERT INTO iris_labels SELECT * FROM iris_labels`, /INSERT statements run only on Athena/],
    ['another database read', 'SELECT * FROM warehouse.main.iris_unpacked', /database main does not exist|catalog warehouse does not exist/],
    ['the engine’s catalog read', 'SELECT * FROM duckdb_settings()', /not valid at this position|duckdb_settings is not an Athena function/],
    ['an environment variable read', `SELECT getenv('HOME')`, /getenv is not an Athena function/],
    ["the engine's catalog through TABLE", 'TABLE pragma_database_list', /table inference_tables_local\.pragma_database_list does not exist/],
    ["the engine's databases through TABLE, in a subquery", 'SELECT * FROM (TABLE duckdb_databases)', /duckdb_databases does not exist/],
    ['a file listing', `SELECT * FROM glob('/etc/*')`, /not valid at this position|glob is not an Athena function/],
  ])('refuses %s, saying why', async (_name, sql, message) => {
    const { status, body } = await ask(sql);
    expect(status).toBe(400);
    expect(body.message).toMatch(message);
    expect(existsSync('/tmp/console-escape.csv')).toBe(false);
    expect(existsSync('/tmp/console-escape.db')).toBe(false);
  });

  it('answers at most its row limit, saying the rest was left, and stops a query past its time', async () => {
    const route = consoleRoutes(localUiSource({ config, dataDir: dir }), { maxRows: 3, timeoutMs: 200 });
    const many = await route('GET', new URL(`http://x/api/sql?q=${encodeURIComponent('SELECT x FROM UNNEST(sequence(1, 10)) AS t(x)')}`));
    expect(JSON.parse(many?.body ?? '{}')).toMatchObject({ rows: [{ x: 1 }, { x: 2 }, { x: 3 }], truncated: true, max_rows: 3 });
    const slow = `SELECT count(*) AS n FROM UNNEST(sequence(1, 100000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 100000)) AS b(y) WHERE x * y % 7 = 3`;
    const stopped = await route('GET', new URL(`http://x/api/sql?q=${encodeURIComponent(slow)}`));
    expect(stopped?.status).toBe(400);
    expect(JSON.parse(stopped?.body ?? '{}').message).toMatch(/ran past 0.2 s, the limit here/);
  });

  it('answers GET only', async () => {
    const res = await fetch(`${stack.server.url}/api/sql`, { method: 'POST', body: 'SELECT 1' });
    expect(res.status).toBe(405);
  });
});
