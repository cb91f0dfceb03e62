import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  BatchGetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  ListNamedQueriesCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import type { LocalServer } from '../../lambdas/adapters/local/http-server.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';
import { environmentUiSource } from '../../lambdas/wiring/deployed-ui.js';
import { serveUi } from '../../lambdas/wiring/ui-server.js';
import { ROOT, demoConfig } from '../helpers/config.js';
import { startLocalStack } from '../helpers/local.js';

/**
 * `inference-tables ui --env dev` against the mocked AWS edge: Athena (whose queries the mock
 * answers from a real data folder, so the page shows real rows), the bucket, the serving-state
 * table and CloudWatch. The page shows the environment, its alarms and named queries, the
 * bytes a console query scanned and their price, and refuses what would do more than read
 * before Athena is called.
 */

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBClient);
const cloudwatch = mockClient(CloudWatchClient);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SHOTS = join(ROOT, 'test-results', 'ui');

let dir: string;
let engine: LocalQueryEngine;
let server: LocalServer;
let browser: Browser;
const started: string[] = [];

/** Athena's answer: every value as text, a header row first for queries. */
async function athenaResults(sql: string) {
  const result = await engine.query(sql);
  const typeOf = (c: string) => {
    const v = result.rows.find((r) => r[c] !== null && r[c] !== undefined)?.[c];
    return typeof v === 'number' ? (Number.isInteger(v) ? 'bigint' : 'double') : typeof v === 'boolean' ? 'boolean' : 'varchar';
  };
  const text = (v: unknown) => (v === null || v === undefined ? {} : { VarCharValue: typeof v === 'object' ? JSON.stringify(v) : String(v) });
  return {
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: result.columns.map((c) => ({ Name: c, Label: c, Type: typeOf(c) })) },
      Rows: [{ Data: result.columns.map((c) => ({ VarCharValue: c })) }, ...result.rows.map((r) => ({ Data: result.columns.map((c) => text(r[c])) }))],
    },
  };
}

beforeAll(async () => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  dir = await mkdtemp(join(tmpdir(), 'it-page-env-'));
  await mkdir(SHOTS, { recursive: true });
  const local = await startLocalStack({ config: demoConfig(), dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  for (const id of ['order-41', 'order-42']) {
    const res = await fetch(`${local.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_request_id: id, inputs: [[5.1, 3.5, 1.4, 0.2]] }) });
    expect(res.status).toBe(200);
  }
  await local.stream.flush();
  await local.close();
  // The mock answers as the environment's database would.
  engine = await LocalQueryEngine.open(dir, { ...demoConfig(), database: 'inference_tables_dev' });

  athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'inference-tables-dev', Configuration: { ResultConfiguration: { OutputLocation: 's3://dev-data/athena-results/' } } } });
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    started.push(input.QueryString);
    return { QueryExecutionId: `q-${started.length - 1}` };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: { QueryExecutionId: input.QueryExecutionId, StatementType: 'DML', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 12_345_678, EngineExecutionTimeInMillis: 420 } },
  }));
  athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => athenaResults(started[Number(input.QueryExecutionId.slice(2))] as string));
  athena.on(ListNamedQueriesCommand).resolves({ NamedQueryIds: ['n1', 'n2'] });
  athena.on(BatchGetNamedQueryCommand).resolves({
    NamedQueries: [
      { NamedQueryId: 'n1', Name: 'iris: recent requests', Description: 'The last requests', QueryString: 'SELECT request_id FROM iris_payload LIMIT 10', Database: 'inference_tables_dev' },
      { NamedQueryId: 'n2', Name: 'iris: error rate', Description: 'Errors per hour', QueryString: 'SELECT count(*) FROM iris_payload', Database: 'inference_tables_dev' },
    ],
  });
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));
  dynamo.on(GetItemCommand).resolves({});
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: 'inference-tables-dev-iris-alerts', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 1 datapoint [2.0] was greater than the threshold (0.0).', StateUpdatedTimestamp: new Date('2026-11-30T10:00:00Z') },
      { AlarmName: 'inference-tables-dev-spill', StateValue: 'OK', StateReason: 'Threshold not crossed', StateUpdatedTimestamp: new Date('2026-11-30T09:00:00Z') },
    ],
  });
  const source = await environmentUiSource(loadConfig('dev', ROOT), ROOT);
  server = await serveUi({ source, host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  engine?.close();
  vi.unstubAllEnvs();
  athena.restore();
  s3.restore();
  dynamo.restore();
  cloudwatch.restore();
  await rm(dir, { recursive: true, force: true });
});

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  return page;
}

describe('inference-tables ui --env against the mocked AWS edge', () => {
  it("shows the environment's endpoints from its serving state, its alarms, and its tables through Athena", async () => {
    const page = await open('');
    expect(await page.locator('#where').textContent()).toBe('environment dev · Athena workgroup inference-tables-dev · database inference_tables_dev · configuration version 1');
    expect(await page.locator('article[data-endpoint]').count()).toBe(6);
    expect(await page.locator('article[data-endpoint="assistant"]').textContent()).toMatch(/claude/);
    expect(await page.locator('article[data-endpoint="iris"] tbody').last().textContent()).toMatch(/iris_payload2/);
    expect(await page.locator('#alarms tbody tr').allTextContents()).toEqual([
      'inference-tables-dev-iris-alertsALARMThreshold Crossed: 1 datapoint [2.0] was greater than the threshold (0.0).2026-11-30T10:00:00.000Z',
      'inference-tables-dev-spillOKThreshold not crossed2026-11-30T09:00:00.000Z',
    ]);
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input).toMatchObject({ TableName: 'inference-tables-dev-serving' });
    await page.screenshot({ path: join(SHOTS, 'env-endpoints.png'), fullPage: true });
    await page.close();
  });

  it('finds a request by its client_request_id in Athena and opens it', async () => {
    const page = await open('#/requests?endpoint=iris&client_request_id=order-42');
    expect(await page.locator('#requests tbody tr').count()).toBe(1);
    expect(started.some((sql) => sql.includes("WHERE client_request_id = 'order-42'"))).toBe(true);
    await page.locator('#requests tbody a').click();
    await page.waitForSelector('#inspector:not([hidden])');
    await page.waitForSelector('body[data-loaded="true"]');
    expect(await page.locator('#inspector pre.body').first().textContent()).toContain('"client_request_id": "order-42"');
    expect(await page.locator('#inspector').textContent()).toContain('Served entityiris-classifier-2');
    await page.close();
  });

  it('runs a console query in the workgroup, showing the bytes scanned and their price, with the named queries as examples', async () => {
    const page = await open(`#/sql?q=${encodeURIComponent('SELECT client_request_id FROM iris_payload ORDER BY 1')}`);
    await page.waitForSelector('#sql-results table');
    expect(await page.locator('#sql-results tbody tr').allTextContents()).toEqual(['order-41', 'order-42']);
    expect(await page.locator('#sql-meta').textContent()).toMatch(/^2 rows in \d+ ms · 12\.35 MB scanned, \$0\.0000\d+ · query q-\d+$/);
    expect(await page.locator('#examples option').allTextContents()).toEqual(['choose a saved query…', 'iris: error rate', 'iris: recent requests']);
    await page.screenshot({ path: join(SHOTS, 'env-sql.png') });
    await page.close();
  });

  it('refuses, before Athena is called, a statement that writes or reads beyond the environment', async () => {
    for (const [sql, message] of [
      ['DROP TABLE iris_payload', /only queries .* DROP is not one/],
      ['INSERT INTO iris_labels VALUES (1)', /only queries .* INSERT is not one/],
      // Trino's grammar has no UNLOAD (Athena's own): it does not parse, so it never runs.
      ["UNLOAD (SELECT 1) TO 's3://elsewhere/' WITH (format = 'PARQUET')", /^line 1:1: 'UNLOAD' is not valid/],
      ['SELECT * FROM other_db.secrets', /other_db is another database/],
      ['SELECT * FROM awsdatacatalog.other_db.secrets', /other_db is another database/],
      ['SELECT * FROM information_schema.tables', /information_schema is another database/],
      ['SELECT * FROM TABLE(system.query(query => 1))', /no table function/],
      ['SHOW TABLES IN other_db', /other_db is another database/],
      ['SELECT 1; SELECT 2', /one statement at a time/],
    ] as const) {
      const before = started.length;
      const res = await fetch(`${server.url}/api/sql?q=${encodeURIComponent(sql)}`);
      expect(res.status, sql).toBe(400);
      expect(((await res.json()) as { message: string }).message, sql).toMatch(message);
      expect(started.length, sql).toBe(before);
    }
    // The environment's own tables, qualified or not, are fine.
    const ok = await fetch(`${server.url}/api/sql?q=${encodeURIComponent('SELECT count(*) AS n FROM awsdatacatalog.inference_tables_dev.iris_payload')}`);
    expect(ok.status).toBe(200);
  });

  it('serves the page only: a scoring path is a 404 that says where the page is', async () => {
    const res = await fetch(`${server.url}/serving-endpoints/iris/invocations`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/endpoint page only/);
  });
});
