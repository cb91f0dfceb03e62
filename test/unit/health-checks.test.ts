import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DescribeDeliveryStreamCommand, FirehoseClient, ResourceNotFoundException } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../lambdas/adapters/aws/athena-query-engine.js';
import { FirehoseConversions } from '../../lambdas/adapters/aws/firehose-conversions.js';
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
  const TRINO: Record<string, string> = { string: 'varchar', int: 'integer', bigint: 'bigint', double: 'double', boolean: 'boolean', timestamp: 'timestamp(3)', 'map<string,string>': 'map(varchar, varchar)', 'array<string>': 'array(varchar)' };
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

describe('the conversion-schema check (doctor --env)', () => {
  const firehose = mockClient(FirehoseClient);
  const streams = new FirehoseConversions(new FirehoseClient({ region: 'eu-west-1' }), (endpoint) => [`inference-tables-dev-${endpoint}`]);
  /** DescribeDeliveryStream answers with a stream converting with this schema configuration. */
  const described = (schema: Record<string, string>, extra: { status?: string; enabled?: boolean; failure?: { Type: string; Details: string } } = {}) => {
    firehose.reset();
    firehose.on(DescribeDeliveryStreamCommand).resolves({
      DeliveryStreamDescription: {
        DeliveryStreamName: 'inference-tables-dev-iris',
        DeliveryStreamARN: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/inference-tables-dev-iris',
        DeliveryStreamStatus: (extra.status ?? 'ACTIVE') as 'ACTIVE',
        DeliveryStreamType: 'DirectPut',
        VersionId: '3',
        HasMoreDestinations: false,
        ...(extra.failure ? { FailureDescription: extra.failure as never } : {}),
        Destinations: [
          {
            DestinationId: 'destinationId-000000000001',
            ExtendedS3DestinationDescription: {
              RoleARN: 'arn:aws:iam::111122223333:role/r',
              BucketARN: 'arn:aws:s3:::b',
              BufferingHints: { SizeInMBs: 64, IntervalInSeconds: 60 },
              CompressionFormat: 'UNCOMPRESSED',
              EncryptionConfiguration: { NoEncryptionConfig: 'NoEncryption' },
              DataFormatConversionConfiguration: { Enabled: extra.enabled ?? true, SchemaConfiguration: schema },
            },
          },
        ],
      },
    });
  };
  const check = async () => {
    const health = await checkEndpoint({ config, store, dialect: 'athena', database: 'inference_tables_dev', streams }, 'iris', { schedule: true });
    return health.checks.find((c) => c.check === 'conversion-schema');
  };
  const deployed = { DatabaseName: 'inference_tables_dev', TableName: 'iris_payload', VersionId: 'LATEST' };

  it('is content with the stream the template deploys', async () => {
    described(deployed);
    expect(await check()).toMatchObject({ status: 'ACTIVE', message: 'The delivery streams of iris convert records with the latest iris_payload.' });
  });

  it('is FAILED when the conversion is pinned to an older table version, which drops columns added since', async () => {
    described({ ...deployed, VersionId: '2' });
    expect(await check()).toMatchObject({
      status: 'FAILED',
      message: expect.stringMatching(/^inference-tables-dev-iris converts with version 2 of iris_payload, not LATEST, so columns the capture schema gained since are dropped from every record\. Redeploy the environment \(cdk deploy\)/),
    });
  });

  it('is FAILED when the stream converts with another table or not at all', async () => {
    described({ ...deployed, TableName: 'wine_payload' });
    expect((await check())?.message).toMatch(/converts with inference_tables_dev\.wine_payload, not inference_tables_dev\.iris_payload/);
    described(deployed, { enabled: false });
    expect(await check()).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/does not convert records to Parquet, so it writes files no query of iris_payload can read/) });
  });

  it('names a failed or missing stream, and only waits on one being created', async () => {
    described(deployed, { status: 'CREATING_FAILED', failure: { Type: 'INVALID_KMS_KEY', Details: 'key disabled' } });
    expect(await check()).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/^the delivery stream inference-tables-dev-iris is CREATING_FAILED \(INVALID_KMS_KEY: key disabled\)/) });
    described(deployed, { status: 'CREATING' });
    expect(await check()).toMatchObject({ status: 'DEGRADED', message: expect.stringMatching(/Wait for the stream to become ACTIVE/) });
    firehose.reset();
    firehose.on(DescribeDeliveryStreamCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
    expect(await check()).toMatchObject({ status: 'FAILED', message: expect.stringMatching(/^the delivery stream inference-tables-dev-iris does not exist \(requests of iris are answered and their records spilled\)/) });
  });

  it('lets any other error of the service through, to be told as such', async () => {
    firehose.reset();
    firehose.on(DescribeDeliveryStreamCommand).rejects(new Error('AccessDeniedException: not authorized to perform firehose:DescribeDeliveryStream'));
    await expect(check()).rejects.toThrow(/not authorized/);
  });
});
