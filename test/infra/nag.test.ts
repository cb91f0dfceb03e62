import { App, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { loadConfig } from '../../lib/config.js';
import { ROOT } from '../helpers/config.js';

function stage(env: string) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return { app, stage: createApp(app, loadConfig(env, ROOT)) };
}

function acknowledgments(env: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const c of stage(env).stage.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) found.set(`${id.replace(/^Annotation::/, '')} @ ${c.node.path.split('/').slice(2).join('/')}`, reason);
    }
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it.each(['local', 'dev', 'prod'])('finds nothing unacknowledged in %s', (env) => {
    expect(() => stage(env).app.synth()).not.toThrow();
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const { app, stage: s } = stage('dev');
    new Bucket(s.stack, 'Unlogged');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*Unlogged/);
  });

  it('acknowledges only these findings, each with a one-line reason', () => {
    const acks = acknowledgments('dev');
    expect([...acks.keys()].map((k) => k.replace(/<\w+\.Arn>/, '<bucket>')).sort()).toEqual(
      [
        'AwsSolutions-APIG2 @ Scoring',
        'AwsSolutions-APIG3 @ Scoring',
        'AwsSolutions-APIG4 @ Scoring',
        'AwsSolutions-COG4 @ Scoring',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] @ Scoring',
        'AwsSolutions-IAM5[Resource::*] @ Scoring/FunctionRole',
        'AwsSolutions-IAM5[Resource::<bucket>/*] @ CaptureStreams/DeliveryPolicy',
        'AwsSolutions-S1 @ Storage/AccessLogs',
        'CloudFormation-Validate::W7001 @ ',
        ...['iris', 'chat', 'iris_classifier', 'echo', 'unrouted'].map((t) => `AwsSolutions-IAM5[Resource::<bucket>/${t}_payload/*] @ Readers/Policy`),
        'AwsSolutions-IAM5[Resource::<bucket>/athena-results/*] @ Readers/Policy',
      ].sort(),
    );
    for (const [id, reason] of acks) {
      expect(reason.length, id).toBeGreaterThan(20);
      expect(reason, id).not.toContain('\n');
    }
  });

  it('acknowledges unauthenticated methods only where API keys stand in for IAM', () => {
    expect([...acknowledgments('prod').keys()].some((k) => k.startsWith('AwsSolutions-APIG4'))).toBe(false);
    expect([...acknowledgments('dev').keys()].some((k) => k.startsWith('AwsSolutions-APIG4'))).toBe(true);
  });
});
