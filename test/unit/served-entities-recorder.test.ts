import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../lambdas/adapters/aws/s3-object-store.js';
import { DynamoServingStateStore } from '../../lambdas/adapters/aws/serving-state-table.js';
import { StateConflictError, initialState } from '../../lambdas/core/serving-state.js';
import { servedEntitiesRecorder } from '../../lambdas/deploy/handler.js';
import { configVersion, servedEntities } from '../../lambdas/core/served-entities.js';
import { configWith } from '../helpers/config.js';

const s3 = mockClient(S3Client);
const dynamo = mockClient(DynamoDBClient);
const config = configWith(() => undefined);
const version = configVersion(servedEntities(config));
const serving = new DynamoServingStateStore(new DynamoDBClient({}), 'inference-tables-test-serving');
const record = servedEntitiesRecorder({ config, store: new S3ObjectStore(new S3Client({}), 'data-bucket'), serving, now: () => Date.UTC(2026, 10, 30, 12, 0, 0) });

beforeEach(() => {
  s3.reset();
  dynamo.reset();
  dynamo.on(GetItemCommand).resolves({});
});

describe('the deploy-time record of served entities (custom resource)', () => {
  it('appends the deployed entities to the history in the data bucket, and reports their version', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'served_entities_history/000001764000000000-0123456789abcdef.json', Size: 10, LastModified: new Date() }] });
    s3.on(PutObjectCommand).resolves({});
    expect(await record({ RequestType: 'Update', PhysicalResourceId: 'served-entities-history' })).toEqual({ PhysicalResourceId: 'served-entities-history', Data: { ConfigVersion: version } });
    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    const input = puts[0]?.args[0].input;
    expect(input?.Bucket).toBe('data-bucket');
    expect(input?.Key).toBe(`served_entities_history/001796040000000-${version}.json`);
    const rows = String(input?.Body).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(servedEntities(config).length);
    expect(rows[0]).toMatchObject({ config_version: version, applied_at: '2026-11-30 12:00:00.000' });
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input.Prefix).toBe('served_entities_history/');
  });

  it('writes nothing when the latest file holds the same entities, and nothing on a stack deletion', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `served_entities_history/000001764000000000-${version}.json`, Size: 10, LastModified: new Date() }] });
    expect((await record({ RequestType: 'Create' })).Data).toEqual({ ConfigVersion: version });
    expect(await record({ RequestType: 'Delete', PhysicalResourceId: 'served-entities-history' })).toEqual({ PhysicalResourceId: 'served-entities-history' });
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('replaces a serving state grown from other models or endpoints, over the version it read, and keeps one grown from these', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    const stale = { ...initialState(config), seed: 'an-older-file', config_version: 7 };
    dynamo.on(GetItemCommand).resolves({ Item: { pk: { S: 'serving-state' }, config_version: { N: '7' }, state: { S: JSON.stringify(stale) } } });
    dynamo.on(PutItemCommand).resolves({});
    await record({ RequestType: 'Update', PhysicalResourceId: 'served-entities-history' });
    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ TableName: 'inference-tables-test-serving', ConditionExpression: 'config_version = :expected', ExpressionAttributeValues: { ':expected': { N: '7' } } });
    expect(JSON.parse(String(put?.Item?.state?.S))).toMatchObject({ config_version: 8, updated_by: 'configuration file' });
    dynamo.resetHistory();
    dynamo.on(GetItemCommand).resolves({ Item: { pk: { S: 'serving-state' }, config_version: { N: '8' }, state: { S: JSON.stringify({ ...initialState(config), config_version: 8 }) } } });
    await record({ RequestType: 'Update', PhysicalResourceId: 'served-entities-history' });
    expect(dynamo.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('fails the deploy when the history cannot be written, so no deployed configuration is missing from it', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    await expect(record({ RequestType: 'Create' })).rejects.toThrow('AccessDenied');
  });

  it('is written over the version read only: another change made meanwhile is a conflict, never lost', async () => {
    dynamo.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(serving.save({ ...initialState(config), config_version: 3 }, 2)).rejects.toThrow(StateConflictError);
    dynamo.on(GetItemCommand).resolves({ Item: { pk: { S: 'serving-state' }, state: { S: '{"config_version": 1' } } });
    await expect(serving.load()).rejects.toThrow(/not JSON; restore the table to a point in time/);
  });
});
