import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../lambdas/adapters/aws/athena-query-engine.js';
import { payloadColumns } from '../../lambdas/core/capture-record.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { checkEndpoint } from '../../lambdas/workflow/health.js';
import { stateKey } from '../../lambdas/workflow/paths.js';
import { demoConfig } from '../helpers/config.js';

const config = demoConfig();
let dir: string;
let store: FileObjectStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-health-'));
  store = new FileObjectStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The `refresh-schedule` check as `doctor` runs it, `minutes` after the last successful refresh. */
async function schedule(minutes: number, refresh = config.refresh) {
  const now = new Date(Date.now() + minutes * 60_000);
  const health = await checkEndpoint({ config: { ...config, refresh }, store, dialect: 'duckdb', now: () => now }, 'iris', { schedule: true });
  return health.checks.find((c) => c.check === 'refresh-schedule');
}

describe('the refresh-schedule check', () => {
  it('is content before the first refresh', async () => {
    expect(await schedule(10_000)).toMatchObject({ status: 'ACTIVE', message: 'iris has had no refresh yet.' });
  });

  it('is DEGRADED once no refresh succeeded for two intervals, naming how to see why', async () => {
    await store.put(stateKey('iris'), '{}');
    const every = config.refresh.schedule_minutes;
    expect(await schedule(2 * every)).toMatchObject({ status: 'ACTIVE' });
    expect(await schedule(2 * every + 5)).toMatchObject({
      status: 'DEGRADED',
      message: `No successful refresh of iris for ${2 * every + 5} min, though one is scheduled every ${every} min: the schedule is not running or every run fails. Run inference-tables refresh to see why.`,
    });
    // A schedule turned off is not late.
    expect(await schedule(10_000, { ...config.refresh, enabled: false })).toMatchObject({ status: 'ACTIVE' });
  });

  it('runs the coverage check only when given a query engine', async () => {
    const health = await checkEndpoint({ config, store, dialect: 'duckdb' }, 'iris', { schedule: true });
    expect(health.checks.map((c) => c.check)).not.toContain('payload-coverage');
  });
});

describe('the catalog-schema check (doctor --env)', () => {
  const athena = mockClient(AthenaClient);
  const engine = () => new AthenaQueryEngine(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'inference-tables-dev', database: 'inference_tables_dev', firstPollMs: 1, maxPollMs: 1, sleep: async () => undefined });
  const TRINO: Record<string, string> = { string: 'varchar', int: 'integer', bigint: 'bigint', double: 'double', timestamp: 'timestamp(3)', 'map<string,string>': 'map(varchar, varchar)', 'array<string>': 'array(varchar)' };
  /** Athena answers information_schema with these columns of the Glue table. */
  const catalog = (columns: [string, string][]) => {
    athena.reset();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { StatementType: 'DML', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 0, EngineExecutionTimeInMillis: 1 } } });
    const cell = (v: string) => ({ VarCharValue: v });
    athena.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'column_name', Type: 'varchar' }, { Name: 'data_type', Type: 'varchar' }] },
        Rows: [{ Data: [cell('column_name'), cell('data_type')] }, ...columns.map(([n, t]) => ({ Data: [cell(n), cell(t)] }))],
      },
    });
  };
  const check = async () => {
    const health = await checkEndpoint({ config, store, dialect: 'athena', database: 'inference_tables_dev', engine: engine() }, 'iris', { schedule: true });
    return health.checks.find((c) => c.check === 'catalog-schema');
  };
  const template = () => payloadColumns.map((c) => [c.name, TRINO[c.glueType] as string] as [string, string]);

  it('is content with the table the template deploys', async () => {
    catalog(template());
    expect(await check()).toMatchObject({ status: 'ACTIVE' });
  });

  it('is FAILED, naming each difference and the redeploy, when the table was edited by hand', async () => {
    catalog(template().filter(([n]) => n !== 'requester').map(([n, t]) => [n, n === 'status_code' ? 'varchar' : t]));
    expect(await check()).toMatchObject({
      status: 'FAILED',
      message: expect.stringMatching(/^The Glue table inference_tables_dev\.iris_payload differs from the capture schema \(status_code is varchar, not integer; requester is missing\): .* Redeploy the environment \(cdk deploy\) to restore it, then run 'inference-tables repair'/),
    });
  });

  it('is FAILED when the table is gone', async () => {
    catalog([]);
    expect(await check()).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/^The Glue table inference_tables_dev\.iris_payload does not exist/) });
  });
});
