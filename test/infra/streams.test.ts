import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { timeFields } from '../../lambdas/core/capture-record.js';
import { captureStreamNames } from '../../lambdas/core/names.js';
import { ENV } from '../../lambdas/shared/env.js';
import { environment, managementFunction, only, roleStatements, scoringFunction } from '../helpers/stacks.js';

const { template } = environment('dev');
const prod = environment('prod').template;
const streams = () => Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream')).map((r) => r.Properties);
const stream = (name: string) => only(template, 'AWS::KinesisFirehose::DeliveryStream', { DeliveryStreamName: name }).Properties;
const destination = (name = 'inference-tables-dev-iris') => stream(name).ExtendedS3DestinationConfiguration;
const tableId = (name: string) => only(template, 'AWS::Glue::Table', { TableInput: { Name: name } }).logicalId;
const keyArn = () => ({ 'Fn::GetAtt': [only(template, 'AWS::KMS::Key').logicalId, 'Arn'] });

/** Runs a JQ program with jq 1.6, the engine Firehose's inline parsing uses. */
function jq(program: string, input: unknown): unknown {
  return JSON.parse(execFileSync('jq', ['-c', program], { input: JSON.stringify(input), encoding: 'utf8' }));
}

describe('Capture streams: Firehose to partitioned Parquet', () => {
  it('creates one stream per endpoint, classic-route model and unrouted', () => {
    expect(streams().map((s) => s.DeliveryStreamName).sort()).toEqual(
      ['assistant', 'chat', 'claude-haiku', 'echo', 'iris', 'iris-classifier', 'unrouted'].map((e) => `inference-tables-dev-${e}`),
    );
  });

  it('shards an endpoint over the configured number of streams', () => {
    const names = Object.values(prod.findResources('AWS::KinesisFirehose::DeliveryStream')).map((r) => r.Properties.DeliveryStreamName);
    expect(names).toEqual(expect.arrayContaining(captureStreamNames('prod', 'iris', 2)));
    expect(names).toContain('inference-tables-prod-iris-2');
  });

  it('encrypts each stream with the customer-managed key', () => {
    for (const s of streams()) expect(s.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: keyArn() });
  });

  it('encrypts delivered objects with the key', () => {
    expect(destination().EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: keyArn() } });
  });

  it('converts JSON to Parquet with the schema of the endpoint’s own Glue table, latest version', () => {
    const conversion = destination().DataFormatConversionConfiguration;
    expect(conversion.Enabled).toBe(true);
    expect(conversion.InputFormatConfiguration).toEqual({ Deserializer: { OpenXJsonSerDe: {} } });
    expect(conversion.OutputFormatConfiguration).toEqual({ Serializer: { ParquetSerDe: {} } });
    expect(conversion.SchemaConfiguration).toMatchObject({ DatabaseName: 'inference_tables_dev', TableName: { Ref: tableId('iris_payload') }, VersionId: 'LATEST' });
    expect(destination('inference-tables-dev-unrouted').DataFormatConversionConfiguration.SchemaConfiguration.TableName).toEqual({ Ref: tableId('unrouted_payload') });
  });

  it('writes into endpoint=…/date=… partitions under the table folder', () => {
    expect(destination().Prefix).toBe('iris_payload/endpoint=!{partitionKeyFromQuery:endpoint}/date=!{partitionKeyFromQuery:date}/');
    expect(destination('inference-tables-dev-iris-classifier').Prefix).toMatch(/^iris_classifier_payload\/endpoint=/);
  });

  it('matches the table location template, so projection finds each partition', () => {
    const table = only(template, 'AWS::Glue::Table', { TableInput: { Name: 'iris_payload' } }).Properties.TableInput;
    const location = JSON.stringify(table.Parameters['storage.location.template']);
    expect(location).toContain('/iris_payload/endpoint=${endpoint}/date=${date}/');
    expect(destination().Prefix.replace('!{partitionKeyFromQuery:endpoint}', '${endpoint}').replace('!{partitionKeyFromQuery:date}', '${date}')).toBe(
      'iris_payload/endpoint=${endpoint}/date=${date}/',
    );
  });

  it('partitions dynamically on endpoint and date with inline JQ', () => {
    expect(destination().DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
    const [processor] = destination().ProcessingConfiguration.Processors;
    expect(processor.Type).toBe('MetadataExtraction');
    expect(processor.Parameters).toContainEqual({ ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' });
  });

  it('derives the same partition as the local stream from the record timestamp (jq 1.6)', () => {
    const [processor] = destination().ProcessingConfiguration.Processors;
    const query = processor.Parameters.find((p: { ParameterName: string }) => p.ParameterName === 'MetadataExtractionQuery').ParameterValue;
    const instants = [Date.UTC(2026, 10, 21, 23, 59, 59, 999), Date.UTC(2026, 10, 22, 0, 0, 0, 0), Date.UTC(2028, 1, 29, 12), 0];
    for (const ms of instants) {
      expect(jq(query, { endpoint: 'iris', timestamp_ms: ms, request: '{"x":1}' })).toEqual({ endpoint: 'iris', date: timeFields(ms).date });
    }
  });

  it('sends records that fail conversion to the error prefix by failure type', () => {
    expect(destination().ErrorOutputPrefix).toBe('errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/');
  });

  it('buffers within the service minimums for dynamic partitioning', () => {
    expect(destination().BufferingHints).toEqual({ IntervalInSeconds: 60, SizeInMBs: 64 });
  });

  it('logs delivery errors to one log group, a log stream per stream', () => {
    expect(destination().CloudWatchLoggingOptions).toMatchObject({ Enabled: true, LogGroupName: { Ref: expect.any(String) } });
    const groups = new Set(Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream')).map((d) => JSON.stringify(d.Properties.ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions.LogGroupName)));
    expect(groups.size).toBe(1);
    const logStreams = new Set(Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream')).map((d) => JSON.stringify(d.Properties.ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions.LogStreamName)));
    expect(logStreams.size).toBe(Object.keys(template.findResources('AWS::KinesisFirehose::DeliveryStream')).length);
  });

  it('gives the delivery role only the actions Firehose documents, on this bucket, key, tables and logs', () => {
    const role = only(template, 'AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'firehose.amazonaws.com' } }] } }).logicalId;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]));
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as { Sid: string; Action: string[] }[];
    expect(Object.fromEntries(statements.map((s) => [s.Sid, s.Action]))).toEqual({
      WriteToTheDataBucket: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject'],
      EncryptStreamAndObjects: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      ReadTheConversionSchema: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
      LogDeliveryErrors: 'logs:PutLogEvents',
    });
  });

  it('lets the scoring function put only to its streams, and tells it which are whose', () => {
    const fn = scoringFunction(template).Properties;
    const map = JSON.parse(fn.Environment.Variables[ENV.captureStreams]);
    expect(map).toEqual({
      iris: ['inference-tables-dev-iris'],
      chat: ['inference-tables-dev-chat'],
      assistant: ['inference-tables-dev-assistant'],
      'iris-classifier': ['inference-tables-dev-iris-classifier'],
      echo: ['inference-tables-dev-echo'],
      'claude-haiku': ['inference-tables-dev-claude-haiku'],
      unrouted: ['inference-tables-dev-unrouted'],
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const puts = statements.filter((s) => JSON.stringify(s.Action).includes('firehose:'));
    // The scoring function's seven, and the same seven for the redrive of spilled records (the management function captures nothing).
    expect(puts).toHaveLength(14);
    expect(managementFunction(template).Properties.Environment.Variables[ENV.captureStreams]).toBe(fn.Environment.Variables[ENV.captureStreams]);
    expect(roleStatements(template, managementFunction(template)).some((s) => JSON.stringify(s.Action).includes('firehose:'))).toBe(false);
    for (const s of puts) {
      expect(s.Action).toEqual(['firehose:PutRecord', 'firehose:PutRecordBatch']);
      expect(s.Resource['Fn::GetAtt'][1]).toBe('Arn');
    }
  });
});
