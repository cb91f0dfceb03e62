import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/env.js';
import { environment, only, scoringFunction } from '../helpers/stacks.js';

const { template, config } = environment('dev');
const redrive = () => only(template, 'AWS::Lambda::Function', { Handler: 'index.redrive' });
const bucketArn = () => ({ 'Fn::GetAtt': [only(template, 'AWS::S3::Bucket', { BucketEncryption: Match.anyValue(), VersioningConfiguration: Match.anyValue() }).logicalId, 'Arn'] });
const keyArn = () => ({ 'Fn::GetAtt': [only(template, 'AWS::KMS::Key').logicalId, 'Arn'] });
const spillObjects = () => ({ 'Fn::Join': ['', [bucketArn(), '/_spill/*']] });

/** The statements of the policies attached to a function's role. */
function statementsOf(fn: { Properties: any }): any[] {
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('Spill and redrive on AWS', () => {
  it('lets the scoring function write only under the spill prefix, read only the health records, and tells it the bucket', () => {
    const fn = scoringFunction(template);
    const s3 = statementsOf(fn).filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toEqual([
      expect.objectContaining({ Action: 's3:PutObject', Effect: 'Allow', Resource: spillObjects() }),
      expect.objectContaining({ Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [bucketArn(), '/_refresh/health/*']] } }),
    ]);
    expect(statementsOf(fn)).toContainEqual(expect.objectContaining({ Action: 'kms:GenerateDataKey', Resource: keyArn() }));
    expect(fn.Properties.Environment.Variables[ENV.dataBucket]).toEqual({ Ref: bucketArn()['Fn::GetAtt'][0] });
  });

  it('lets the redrive function list, read and delete only spilled records, decrypt them, and put to the streams', () => {
    const statements = statementsOf(redrive());
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toEqual([
      expect.objectContaining({ Action: 's3:ListBucket', Resource: bucketArn(), Condition: { StringLike: { 's3:prefix': ['_spill/*'] } } }),
      expect.objectContaining({ Action: ['s3:GetObject', 's3:DeleteObject'], Resource: spillObjects() }),
    ]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: keyArn() }));
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('firehose:'))).toHaveLength(7);
    expect(Object.keys(JSON.parse(redrive().Properties.Environment.Variables[ENV.captureStreams])).sort()).toEqual(['assistant', 'chat', 'claude-haiku', 'echo', 'iris', 'iris-classifier', 'unrouted']);
  });

  it('runs the redrive on the configured schedule, one run at a time', () => {
    const rule = only(template, 'AWS::Events::Rule').Properties;
    expect(rule.ScheduleExpression).toBe(`rate(${config.delivery.redrive_minutes} minutes)`);
    expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [redrive().logicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })]);
    expect(redrive().Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('alarms on records lost, spilled and retried in bulk, and on a failed redrive, notifying the alerts topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((p) => /-(capture-\w+|redrive-failed)$/.test(p.AlarmName));
    const byName = new Map(alarms.map((p) => [p.AlarmName.replace('inference-tables-dev-', ''), p]));
    expect([...byName.keys()].sort()).toEqual(['capture-lost', 'capture-retried', 'capture-spilled', 'redrive-failed']);
    for (const [name, metric, threshold] of [
      ['capture-lost', 'CaptureLost', 1],
      ['capture-spilled', 'CaptureSpilled', 1],
      ['capture-retried', 'CaptureRetried', 100],
    ] as const) {
      expect(byName.get(name)).toMatchObject({ Namespace: 'InferenceTables', MetricName: metric, Dimensions: [{ Name: 'Environment', Value: 'dev' }], Statistic: 'Sum', Threshold: threshold });
    }
    expect(byName.get('redrive-failed')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: redrive().logicalId } }] });
    const topic = { Ref: only(template, 'AWS::SNS::Topic').logicalId };
    for (const p of alarms) expect(p.AlarmActions).toEqual([topic]);
  });
});
