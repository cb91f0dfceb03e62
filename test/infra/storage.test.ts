import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { configWith } from '../helpers/config.js';
import { environment, only, synthesize } from '../helpers/stacks.js';

const { template } = environment('dev');
const keyId = () => only(template, 'AWS::KMS::Key').logicalId;
const dataBucket = () => only(template, 'AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });

describe('Storage: key and data bucket', () => {
  it('creates one customer-managed key with rotation on', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('retains the key and the data bucket when the stack is deleted', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const [, bucket] = Object.entries(template.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } }))[0]!;
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('encrypts the data bucket with the key, with a bucket key', () => {
    expect(dataBucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId(), 'Arn'] } } },
    ]);
  });

  it('blocks every form of public access on both buckets', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(2);
    for (const b of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
  });

  it('denies requests without TLS (and below TLS 1.2) to the data bucket', () => {
    const bucket = dataBucket().logicalId;
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('logs data bucket access to the access log bucket', () => {
    const logs = only(template, 'AWS::S3::Bucket', { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
    expect(dataBucket().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logs.logicalId }, LogFilePrefix: 'data-bucket/' });
  });

  it('expires payload files, error output and quarantine after the configured retention, old versions after a week, and nothing else', () => {
    const rules = dataBucket().Properties.LifecycleConfiguration.Rules as { Id: string; Prefix?: string; ExpirationInDays?: number; NoncurrentVersionExpiration?: unknown }[];
    expect(rules).toContainEqual(expect.objectContaining({ Id: 'expire-old-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 7 } }));
    expect(rules.find((r) => r.Id === 'expire-old-versions')?.ExpirationInDays).toBeUndefined();
    const expiring = rules.filter((r) => r.ExpirationInDays !== undefined);
    expect(expiring.map((r) => [r.Prefix, r.ExpirationInDays]).sort()).toEqual(
      [
        ...['assistant', 'chat', 'claude_haiku', 'echo', 'iris', 'iris_classifier', 'unrouted'].map((t) => [`${t}_payload/`, 90]),
        ...['assistant', 'chat', 'claude_haiku', 'echo', 'iris', 'iris_classifier'].map((t) => [`${t}_labels/`, 90]),
        ['errors/', 90],
        ['_quarantine/', 30],
        ['athena-results/', 30],
      ].sort(),
    );
    // Every expiring rule has a prefix: the Iceberg tables' data and metadata, state and spill never expire by lifecycle.
    for (const r of expiring) expect(r.Prefix, r.Id).toMatch(/^(\w+_payload|\w+_labels|errors|_quarantine|athena-results)\/$/);
  });

  it('gives each kind its own retention from the configuration', () => {
    const { template: custom } = synthesize(configWith((raw) => (raw.retention = { payload_days: 400, labels_days: 1000, quarantine_days: 14 })));
    const bucket = only(custom, 'AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });
    const days = new Map((bucket.Properties.LifecycleConfiguration.Rules as { Prefix?: string; ExpirationInDays?: number }[]).map((r) => [r.Prefix, r.ExpirationInDays]));
    expect([days.get('iris_payload/'), days.get('errors/'), days.get('iris_labels/'), days.get('_quarantine/')]).toEqual([400, 400, 1000, 14]);
  });

  it('lets CloudWatch Logs of this account use the key for its log groups only', () => {
    const policy = only(template, 'AWS::KMS::Key').Properties.KeyPolicy;
    const statement = policy.Statement.find((s: any) => JSON.stringify(s.Principal).includes('logs.'));
    expect(statement.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
    });
  });

  it('encrypts every log group with the key', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId(), 'Arn'] });
  });

  it('encrypts every function environment and the state machine with the key', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const ours = functions.filter((f) => f.Properties.Environment);
    expect(ours.length).toBeGreaterThan(0);
    for (const f of ours) expect(f.Properties.KmsKeyArn).toEqual({ 'Fn::GetAtt': [keyId(), 'Arn'] });
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    for (const m of machines) expect(m.Properties.EncryptionConfiguration).toMatchObject({ Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] } });
  });
});
