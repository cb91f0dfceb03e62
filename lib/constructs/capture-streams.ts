import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import type { CfnTable } from 'aws-cdk-lib/aws-glue';
import { type IGrantable, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  DeliveryStream,
  type CfnDeliveryStream,
  DisableLogging,
  MetadataExtractionProcessor,
  OpenXJsonInputFormat,
  OutputFormat,
  S3Bucket,
  SchemaConfiguration,
  StreamEncryption,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { captureStreamNames } from '../../lambdas/core/names.js';
import { ENV } from '../../lambdas/shared/env.js';
import { bucketObjectsFinding } from './findings.js';

/** Firehose refuses dynamic partitioning with a smaller buffer or a shorter interval. */
export const FIREHOSE_MIN_BUFFER_MB = 64;
export const FIREHOSE_MIN_BUFFER_SECONDS = 60;

/**
 * Partition keys computed by Firehose from each record (JQ 1.6): the endpoint, and the UTC
 * date of the request's own timestamp (not the arrival time), like the local stream.
 */
export const PARTITION_KEY_QUERIES = {
  endpoint: '.endpoint',
  // Parenthesized: in a JQ object constructor a value with a pipe must be.
  date: '(.timestamp_ms / 1000 | floor | strftime("%Y-%m-%d"))',
} as const;

/** Lambda allows 4 KB of environment variables in all; the rest are short. */
const LAMBDA_ENVIRONMENT_BUDGET_BYTES = 3_584;

/** Where records land: Hive partitions under the table's folder, like the local stream. */
export function dataOutputPrefix(table: string): string {
  return `${table}/endpoint=!{partitionKeyFromQuery:endpoint}/date=!{partitionKeyFromQuery:date}/`;
}

/** Where records that cannot be delivered land, by failure type (e.g. `format-conversion-failed`). */
export const ERROR_OUTPUT_PREFIX = 'errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/';

/** One endpoint whose records are captured, and its payload table. */
export interface CapturedEndpoint {
  readonly name: string;
  readonly table: CfnTable;
  readonly tableName: string;
  /** Number of delivery streams its records are spread over. */
  readonly streams: number;
}

/** Props of {@link CaptureStreams}. */
export interface CaptureStreamsProps {
  readonly environment: string;
  readonly endpoints: readonly CapturedEndpoint[];
  readonly bucket: IBucket;
  readonly key: IKey;
  readonly databaseName: string;
  readonly bufferIntervalSeconds: number;
  readonly bufferSizeMb: number;
  readonly logRetention: RetentionDays;
}

/**
 * One Firehose delivery stream per endpoint (or several for a busy one), each converting the
 * JSON capture records to Parquet with its Glue table's schema and writing them into
 * `endpoint=…/date=…` partitions that the table's projection finds at once.
 */
export class CaptureStreams extends Construct {
  /** Delivery streams by endpoint name. */
  public readonly streams: ReadonlyMap<string, readonly DeliveryStream[]>;
  /** Delivery stream names by endpoint name, known at synth (they are set, not generated). */
  public readonly streamNames: ReadonlyMap<string, readonly string[]>;

  public constructor(scope: Construct, id: string, props: CaptureStreamsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // One role for all streams of the environment: they write to the same bucket with the same key.
    const role = new Role(this, 'DeliveryRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com'),
      description: 'Lets the capture streams read their Glue schema and write Parquet to the data bucket',
    });
    // The Firehose constructs' own grants are broader than Firehose needs (s3:DeleteObject*,
    // kms:ReEncrypt*); they are dropped and the documented permissions granted instead.
    const deliveryRole = role.withoutPolicyUpdates();
    // Delivery errors (conversion, partitioning, S3) of every stream go to one log group, a log
    // stream each: a group per stream would cost a resource per stream (CloudFormation allows 500).
    const logs = new LogGroup(this, 'DeliveryLogs', { encryptionKey: props.key, retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const streams = new Map<string, DeliveryStream[]>();
    const streamNames = new Map<string, string[]>();
    for (const endpoint of props.endpoints) {
      const names = captureStreamNames(props.environment, endpoint.name, endpoint.streams);
      const list = names.map((deliveryStreamName, i) => {
        const id = `${endpoint.name}-${i + 1}`;
        const stream = new DeliveryStream(this, id, {
            deliveryStreamName,
            role: deliveryRole,
            encryption: StreamEncryption.customerManagedKey(props.key),
            destination: new S3Bucket(props.bucket, {
              role: deliveryRole,
              encryptionKey: props.key,
              bufferingInterval: Duration.seconds(props.bufferIntervalSeconds),
              bufferingSize: Size.mebibytes(props.bufferSizeMb),
              dataOutputPrefix: dataOutputPrefix(endpoint.tableName),
              errorOutputPrefix: ERROR_OUTPUT_PREFIX,
              // Set below: CDK's destination would name every stream's log stream alike in the shared group.
              loggingConfig: new DisableLogging(),
              dataFormatConversion: {
                schemaConfiguration: SchemaConfiguration.fromCfnTable(endpoint.table),
                // OpenX reads `request_time` (yyyy-MM-dd HH:mm:ss.SSS) as a TIMESTAMP.
                inputFormat: new OpenXJsonInputFormat(),
                outputFormat: OutputFormat.PARQUET,
              },
              dynamicPartitioning: { enabled: true, retryDuration: Duration.seconds(300) },
              processors: [MetadataExtractionProcessor.jq16({ ...PARTITION_KEY_QUERIES })],
            }),
        });
        const logStream = new LogStream(this, `${id}-LogStream`, { logGroup: logs, logStreamName: deliveryStreamName, removalPolicy: RemovalPolicy.DESTROY });
        (stream.node.defaultChild as CfnDeliveryStream).addPropertyOverride('ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions', {
          Enabled: true,
          LogGroupName: logs.logGroupName,
          LogStreamName: logStream.logStreamName,
        });
        return stream;
      });
      streams.set(endpoint.name, list);
      streamNames.set(endpoint.name, names);
    }
    this.streams = streams;
    this.streamNames = streamNames;

    const glue = (resource: string, resourceName?: string) => stack.formatArn({ service: 'glue', resource, resourceName });
    // https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-s3
    const policy = new Policy(this, 'DeliveryPolicy', {
      roles: [role],
      statements: [
        new PolicyStatement({
          sid: 'WriteToTheDataBucket',
          actions: ['s3:AbortMultipartUpload', 's3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 's3:ListBucketMultipartUploads', 's3:PutObject'],
          resources: [props.bucket.bucketArn, props.bucket.arnForObjects('*')],
        }),
        new PolicyStatement({
          sid: 'EncryptStreamAndObjects',
          actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.key.keyArn],
        }),
        new PolicyStatement({
          sid: 'ReadTheConversionSchema',
          actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
          resources: [glue('catalog'), glue('database', props.databaseName), ...props.endpoints.map((e) => glue('table', `${props.databaseName}/${e.tableName}`))],
        }),
        new PolicyStatement({
          sid: 'LogDeliveryErrors',
          actions: ['logs:PutLogEvents'],
          resources: [logs.logGroupArn],
        }),
      ],
    });
    // Firehose checks its role when the stream is created.
    for (const list of streams.values()) for (const stream of list) stream.node.addDependency(policy);
    Validations.of(policy).acknowledge({
      id: bucketObjectsFinding(props.bucket, '*'),
      reason: 'Firehose writes objects whose keys it generates (partition, time and a random suffix) anywhere in the data bucket it owns.',
    });
  }

  /**
   * Lets `grantee` put records to every stream, and tells it (environment variable
   * {@link ENV.captureStreams}) which streams belong to which endpoint.
   */
  public grantPutRecords(grantee: IGrantable & { addEnvironment(key: string, value: string): unknown }): void {
    for (const list of this.streams.values()) for (const stream of list) stream.grantPutRecords(grantee);
    this.nameStreams(grantee);
  }

  /**
   * Tells a function which streams are whose, without letting it put to them: the management
   * function runs the scoring code, whose wiring reads the names, and captures nothing.
   */
  public nameStreams(grantee: { addEnvironment(key: string, value: string): unknown }): void {
    const value = JSON.stringify(Object.fromEntries(this.streamNames));
    if (Buffer.byteLength(value) > LAMBDA_ENVIRONMENT_BUDGET_BYTES) {
      throw new Error(
        `The stream names of ${this.streamNames.size} endpoints take ${Buffer.byteLength(value)} bytes, more than the ${LAMBDA_ENVIRONMENT_BUDGET_BYTES} left in a Lambda environment (4 KB in all); use fewer streams per endpoint or split the environment.`,
      );
    }
    grantee.addEnvironment(ENV.captureStreams, value);
  }
}
