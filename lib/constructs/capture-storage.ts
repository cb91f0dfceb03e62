import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ATHENA_RESULTS_PREFIX } from '../../lambdas/core/names.js';
import { HEALTH_PREFIX } from '../../lambdas/core/health.js';
import { bucketObjectsFinding } from './findings.js';
import { SPILL_PREFIX } from '../../lambdas/core/spill.js';
import { SERVED_ENTITIES_HISTORY } from '../../lambdas/core/served-entities.js';
import { ENV } from '../../lambdas/shared/env.js';

/** A function: it is granted a permission and told, in its environment, where to use it. */
type GrantableFunction = IGrantable & { addEnvironment(key: string, value: string): unknown };

/** Props of {@link CaptureStorage}. */
export interface CaptureStorageProps {
  readonly environment: string;
  /** Days the server access logs are kept. */
  readonly dataRetentionDays: number;
  /**
   * Prefixes of the plain files that expire, each after its kind's retention (`retention` of
   * the configuration): the payload tables and the delivery error output, the labels, the
   * quarantine. Nothing else expires by lifecycle: the Iceberg tables (unpacked, metrics) keep
   * data and metadata their snapshots reference (the refresh trims them), and the workflow's
   * state and the spill are read back.
   */
  readonly expiringPrefixes: readonly { readonly prefix: string; readonly days: number }[];
}

/** Prefix of Athena query results inside the data bucket (named once, for the functions too). */
export { ATHENA_RESULTS_PREFIX };

/** Days Athena query results are kept: they are caches, not data. */
const ATHENA_RESULTS_DAYS = 30;

/**
 * Where an environment's captured data lives: a customer-managed KMS key (rotation on) for
 * the bucket, streams, logs and query results, and the data bucket itself (TLS only, public
 * access blocked, versioned, server access logs, lifecycle retention). Both are retained
 * when the stack is deleted: captured data outlives the serving stack.
 */
export class CaptureStorage extends Construct {
  public readonly key: Key;
  public readonly bucket: Bucket;
  public readonly accessLogs: Bucket;

  public constructor(scope: Construct, id: string, props: CaptureStorageProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new Key(this, 'Key', {
      alias: `alias/inference-tables-${props.environment}`,
      description: `inference-tables ${props.environment}: captured payloads, delivery streams, logs and query results`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts log groups with the key only when its key policy lets the
    // regional logs service use it, scoped to this account's log groups.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      // S3 server access logging can deliver only to SSE-S3 encrypted buckets.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(props.dataRetentionDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the data bucket; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Data', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per bucket rather than per object: fewer KMS calls for many small files.
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        // Old versions of any object (overwritten or deleted) go after a week, everywhere.
        { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) },
        ...props.expiringPrefixes.map(({ prefix, days }) => ({ id: `expire-${prefix.replace(/\/$/, '').replace(/[^A-Za-z0-9-]/g, '-')}`, prefix, expiration: Duration.days(days) })),
        { id: 'expire-query-results', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(ATHENA_RESULTS_DAYS) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Lets the scoring function write spilled capture records (and only those), encrypted with the key. */
  public grantSpillWrite(fn: GrantableFunction): void {
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${SPILL_PREFIX}*`)] }));
    // SSE-KMS with a bucket key: S3 asks KMS for a data key on the writer's behalf.
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    this.acknowledgeSpillKeys(fn);
    fn.addEnvironment(ENV.dataBucket, this.bucket.bucketName);
  }

  /**
   * Lets the scoring function read the recorded health of the tables (`_refresh/health/`), which
   * the endpoint API reports, and nothing else of the bucket.
   */
  public grantHealthRead(fn: GrantableFunction): void {
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${HEALTH_PREFIX}*`)] }));
    fn.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }));
    Validations.of(fn.grantPrincipal as unknown as Construct).acknowledge({
      id: bucketObjectsFinding(this.bucket, `${HEALTH_PREFIX}*`),
      reason: "The health records of the environment's endpoints, one object each; the endpoints change with the config.",
    });
    fn.addEnvironment(ENV.dataBucket, this.bucket.bucketName);
  }

  /**
   * Lets the deploy-time recorder list and append the served-entities history (and nothing
   * else of the bucket), encrypted with the key.
   */
  public grantServedEntitiesWrite(fn: GrantableFunction): void {
    const prefix = `${SERVED_ENTITIES_HISTORY}/`;
    const principal = fn.grantPrincipal;
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }));
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(`${prefix}*`)] }));
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    Validations.of(principal as unknown as Construct).acknowledge({
      id: bucketObjectsFinding(this.bucket, `${prefix}*`),
      reason: 'One history file per applied configuration, named by its time and version; the grant is limited to the history prefix.',
    });
    fn.addEnvironment(ENV.dataBucket, this.bucket.bucketName);
  }

  /** Lets the redrive function list, read and delete spilled capture records, and nothing else of the bucket. */
  public grantSpillRedrive(fn: GrantableFunction): void {
    const principal = fn.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${SPILL_PREFIX}*`] } } }),
    );
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [this.bucket.arnForObjects(`${SPILL_PREFIX}*`)] }));
    principal.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:Decrypt'], resources: [this.key.keyArn] }));
    this.acknowledgeSpillKeys(fn);
    fn.addEnvironment(ENV.dataBucket, this.bucket.bucketName);
  }

  private acknowledgeSpillKeys(fn: IGrantable): void {
    const role = fn.grantPrincipal as unknown as Construct;
    Validations.of(role).acknowledge({
      id: bucketObjectsFinding(this.bucket, `${SPILL_PREFIX}*`),
      reason: 'Spill objects are named when a put fails (endpoint, date, time and a random id); the grant is limited to the spill prefix.',
    });
  }
}
