import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileServingStateStore } from '../../lambdas/adapters/local/serving-state-file.js';
import { cli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'serving-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('models and endpoints commands on a data folder', () => {
  it('moves a stage, points an alias and turns capture off and on, each a new version a running server reads', async () => {
    expect(await cli('models', 'transition', 'iris-classifier', '3', 'Production', '--archive-existing', '-d', dir)).toMatchObject({
      code: 0,
      out: 'iris-classifier version 3 is now in Production (serving configuration version 2); a running server applies it within 5 s.\n',
    });
    expect((await cli('models', 'alias', 'iris-classifier', 'champion', '3', '-d', dir)).code).toBe(0);
    expect((await cli('endpoints', 'capture', 'iris', '--disable', '-d', dir)).out).toContain('iris: capture disabled (serving configuration version 4)');
    expect((await cli('endpoints', 'capture', 'iris', '--enable', '--sampling', '0.25', '-d', dir)).out).toContain('capture enabled at sampling 0.25');
    const state = await new FileServingStateStore(dir).load();
    const iris = state?.models.find((m) => m.name === 'iris-classifier');
    expect(iris?.versions.map((v) => [v.version, v.stage])).toEqual([
      ['1', 'Archived'],
      ['2', 'Archived'],
      ['3', 'Production'],
      ['4', 'None'],
    ]);
    expect(iris?.aliases.champion).toBe('3');
    expect(state?.endpoints.find((e) => e.name === 'iris')?.capture).toMatchObject({ enabled: true, sampling_fraction: 0.25 });
    expect(state?.updated_by).toMatch(/^cli:/);
  });

  it('names what it refuses, and changes nothing', async () => {
    const before = (await new FileServingStateStore(dir).load())?.config_version;
    expect(await cli('models', 'alias', 'iris-classifier', 'champion', '9', '-d', dir)).toMatchObject({ code: 1, err: expect.stringContaining('Model Version (name=iris-classifier, version=9) not found') });
    expect(await cli('models', 'transition', 'iris-classifier', '3', 'Live', '-d', dir)).toMatchObject({ code: 1, err: expect.stringContaining("'stage': must be one of None, Staging, Production, Archived") });
    expect(await cli('endpoints', 'capture', 'nope', '--disable', '-d', dir)).toMatchObject({ code: 1, err: expect.stringContaining("Endpoint 'nope' does not exist") });
    expect(await cli('endpoints', 'capture', 'iris', '-d', dir)).toMatchObject({ code: 1, err: expect.stringContaining('give --enable, --disable or --sampling') });
    expect((await cli('endpoints', 'capture', 'iris', '--enable', '--disable', '-d', dir)).code).not.toBe(0);
    expect((await new FileServingStateStore(dir).load())?.config_version).toBe(before);
  });
});

describe('models transition --env', () => {
  const dynamo = mockClient(DynamoDBClient);
  const s3 = mockClient(S3Client);
  const athena = mockClient(AthenaClient);

  beforeEach(() => {
    dynamo.reset();
    s3.reset();
    athena.reset();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("writes the deployed environment's table over the version it read, and appends the history to its bucket", async () => {
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'inference-tables-dev', Configuration: { ResultConfiguration: { OutputLocation: 's3://dev-data/athena-results/' } } } });
    dynamo.on(GetItemCommand).resolves({});
    dynamo.on(PutItemCommand).resolves({});
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const run = await cli('models', 'transition', 'iris-classifier', '3', 'Production', '--env', 'dev');
    expect(run).toMatchObject({ code: 0, out: expect.stringContaining('live on dev within 5 s') });
    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ TableName: 'inference-tables-dev-serving', ConditionExpression: 'attribute_not_exists(pk)' });
    expect(JSON.parse(String(put?.Item?.state?.S))).toMatchObject({ config_version: 2 });
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'dev-data', Key: expect.stringMatching(/^served_entities_history\//) });
  });
});
