import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine, athenaQueryCost } from '../../lambdas/adapters/aws/athena-query-engine.js';
import { QueryError } from '../../lambdas/core/ports.js';
import { cli } from '../helpers/cli.js';

const athena = mockClient(AthenaClient);
const waits: number[] = [];
const engine = () =>
  new AthenaQueryEngine(new AthenaClient({ region: 'eu-west-1' }), {
    workgroup: 'inference-tables-dev',
    database: 'inference_tables_dev',
    firstPollMs: 100,
    maxPollMs: 300,
    sleep: async (ms) => void waits.push(ms),
  });

const columns = [
  { Name: 'request_id', Type: 'varchar' },
  { Name: 'status_code', Type: 'integer' },
  { Name: 'n', Type: 'bigint' },
  { Name: 'error_rate', Type: 'double' },
  { Name: 'ok', Type: 'boolean' },
];
const row = (...values: (string | undefined)[]) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });
const page = (rows: ReturnType<typeof row>[], next?: string): Partial<GetQueryResultsCommandOutput> => ({
  ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: rows },
  NextToken: next,
});
const succeeded = { QueryExecution: { StatementType: 'DML' as const, Status: { State: 'SUCCEEDED' as const }, Statistics: { DataScannedInBytes: 52_428_800, EngineExecutionTimeInMillis: 850 } } };

beforeEach(() => {
  athena.reset();
  waits.length = 0;
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
});

describe('Athena query engine', () => {
  it('reads no page past its row limit, and stops reading at its time limit', async () => {
    athena.on(GetQueryExecutionCommand).resolves(succeeded);
    const header = row('request_id', 'status_code', 'n', 'error_rate', 'ok');
    const r = (i: number) => row(`r${i}`, '200', '1', '0.5', 'true');
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([header, r(1), r(2)], 't2'))
      .resolvesOnce(page([r(3), r(4)], 't3'))
      .resolves(page([r(5)]));
    const limited = new AthenaQueryEngine(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'w', database: 'd', maxRows: 2, sleep: async () => {} });
    // Two rows asked: the first page's two, then one more page to tell there are more.
    expect((await limited.query('SELECT 1')).rows.map((x) => x.request_id)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(2);
    athena.on(GetQueryResultsCommand).resolves(page([header, r(1)], 'more'));
    const slow = new AthenaQueryEngine(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'w', database: 'd', timeoutMs: 0, sleep: async () => {} });
    await expect(slow.query('SELECT 1')).rejects.toThrow(/results took too long to read: 1 rows read, more left/);
  });

  it('starts the query in the workgroup and database, polling with backoff until it succeeds', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves(succeeded);
    athena.on(GetQueryResultsCommand).resolves(page([row('request_id', 'status_code', 'n', 'error_rate', 'ok')]));
    await engine().query('SELECT 1');
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      QueryString: 'SELECT 1',
      WorkGroup: 'inference-tables-dev',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'inference_tables_dev' },
    });
    expect(waits).toEqual([100, 150, 225, 300]);
  });

  it('pages through the results, skipping the header row, with typed values and nulls', async () => {
    athena.on(GetQueryExecutionCommand).resolves(succeeded);
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(page([row('request_id', 'status_code', 'n', 'error_rate', 'ok'), row('r1', '200', '3', '0.5', 'true')], 't2'))
      .resolvesOnce(page([row('r2', '500', '9007199254740993', undefined, 'false')]));
    const result = await engine().query('SELECT …');
    expect(result.columns).toEqual(['request_id', 'status_code', 'n', 'error_rate', 'ok']);
    expect(result.rows).toEqual([
      { request_id: 'r1', status_code: 200, n: 3, error_rate: 0.5, ok: true },
      { request_id: 'r2', status_code: 500, n: '9007199254740993', error_rate: null, ok: false },
    ]);
    expect(athena).toHaveReceivedCommandWith(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 't2' });
  });

  it('keeps the first row of statements that have no header (SHOW, DDL)', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { StatementType: 'UTILITY', Status: { State: 'SUCCEEDED' } } });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'tab_name', Type: 'varchar' }] }, Rows: [row('iris_payload')] } });
    expect((await engine().query('SHOW TABLES')).rows).toEqual([{ tab_name: 'iris_payload' }]);
  });

  it('reports bytes scanned and their price, at least 10 MB per query', async () => {
    athena.on(GetQueryExecutionCommand).resolves(succeeded);
    athena.on(GetQueryResultsCommand).resolves(page([]));
    const { stats } = await engine().query('SELECT 1');
    expect(stats).toEqual({ queryId: 'q-1', bytesScanned: 52_428_800, engineTimeMs: 850, costUsd: (50 / 1024 ** 2) * 5 });
    expect(athenaQueryCost(0)).toBeCloseTo((10 / 1024 ** 2) * 5, 12);
    expect(athenaQueryCost(1024 ** 4)).toBe(5);
  });

  it("fails with Athena's reason when the query fails", async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'x', AthenaError: { ErrorMessage: "line 1:15: Table 'nope' does not exist" } } },
    });
    await expect(engine().query('SELECT * FROM nope')).rejects.toThrow(new QueryError("Athena query q-1 failed: line 1:15: Table 'nope' does not exist"));
  });

  it('says when the query was cancelled, e.g. by the scan cutoff', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: 'Query exhausted the bytes scanned limit of the workgroup' } },
    });
    await expect(engine().query('SELECT *')).rejects.toThrow('Athena query q-1 was cancelled: Query exhausted the bytes scanned limit');
  });

  it('stops the query in flight when cancelled', async () => {
    const e = engine();
    athena.on(GetQueryExecutionCommand).callsFake(async () => {
      await e.cancel();
      return { QueryExecution: { Status: { State: 'CANCELLED', StateChangeReason: 'stopped by user' } } };
    });
    await expect(e.query('SELECT 1')).rejects.toThrow('was cancelled: stopped by user');
    expect(athena).toHaveReceivedCommandWith(StopQueryExecutionCommand, { QueryExecutionId: 'q-1' });
  });

  it('stops a query that outlives its timeout', async () => {
    const e = new AthenaQueryEngine(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'w', database: 'd', timeoutMs: -1, sleep: async () => {} });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'RUNNING' } } });
    await expect(e.query('SELECT 1')).rejects.toThrow('did not finish in time; it was stopped');
    expect(athena).toHaveReceivedCommand(StopQueryExecutionCommand);
  });
});

describe('CLI: query --env', () => {
  it("runs on the environment's workgroup and prints rows, then the scan and its cost on stderr", async () => {
    athena.on(GetQueryExecutionCommand).resolves(succeeded);
    athena.on(GetQueryResultsCommand).resolves(page([row('request_id', 'status_code', 'n', 'error_rate', 'ok'), row('r1', '200', '3', '0.5', 'true')]));
    const { code, out, err } = await cli('query', 'SELECT * FROM iris_payload LIMIT 1', '--env', 'prod', '--format', 'csv');
    expect(code).toBe(0);
    expect(out).toBe('request_id,status_code,n,error_rate,ok\nr1,200,3,0.5,true\n');
    expect(err).toBe('query q-1: scanned 50.00 MB, 850 ms in Athena, about $0.000238\n');
    expect(athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, { WorkGroup: 'inference-tables-prod', QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'inference_tables_prod' } });
  });

  it('names the environment and workgroup when Athena cannot be reached', async () => {
    athena.on(StartQueryExecutionCommand).rejects(new Error('Could not load credentials from any providers'));
    const { code, err } = await cli('query', 'SELECT 1', '--env', 'dev');
    expect(code).toBe(1);
    expect(err).toBe('inference-tables: cannot query dev (workgroup inference-tables-dev): Could not load credentials from any providers\n');
  });

  it('prints a failed query as one line with the reason', async () => {
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', AthenaError: { ErrorMessage: 'SYNTAX_ERROR: bad' } } } });
    const { code, err } = await cli('query', 'SELEC 1', '--env', 'dev');
    expect([code, err]).toEqual([1, 'inference-tables: Athena query q-1 failed: SYNTAX_ERROR: bad\n']);
  });

  it('names an environment that has no configuration', async () => {
    const { code, err } = await cli('query', 'SELECT 1', '--env', 'staging');
    expect(code).toBe(1);
    expect(err).toMatch(/Cannot read configuration .*config\/staging\.json/);
  });
});
