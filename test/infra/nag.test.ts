import { App, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app.js';
import { loadConfig } from '../../lambdas/wiring/config-file.js';
import { ROOT } from '../helpers/config.js';
import { REFRESH_STEPS } from '../../lambdas/core/refresh-steps.js';

const TABLE_KINDS = ['payload', 'unpacked', 'unpack_errors', 'labels', 'label_rejects', 'recompute_windows', 'profile_metrics', 'drift_metrics', 'alerts'];

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
    const readable = (k: string) =>
      k
        .replace(/<(Refresh\w+|ServedEntities)Function\w{8}\.Arn>/, '<$1Function>')
        .replace(/<\w+\.Arn>/, '<bucket>')
        .replace(/<ScoringApi\w{8}>\/<ScoringApiDeploymentStage\w+>/, '<api>/<stage>')
        .replace(/\{"Fn::Select".*?\}\]\}\]\}/, '<state machine>');
    expect([...acks.keys()].map(readable).sort()).toEqual(
      [
        'AwsSolutions-APIG2 @ Scoring',
        'AwsSolutions-APIG3 @ Scoring',
        'AwsSolutions-APIG4 @ Scoring',
        'AwsSolutions-COG4 @ Scoring',
        ...['APIG4', 'COG4'].flatMap((rule) => ['health', 'ping'].map((route) => `AwsSolutions-${rule} @ Scoring/Api/Default/${route}/GET`)),
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] @ Scoring',
        'AwsSolutions-IAM5[Resource::*] @ Scoring/FunctionRole',
        'AwsSolutions-IAM5[Resource::<bucket>/_spill/*] @ Scoring/FunctionRole',
        'AwsSolutions-IAM5[Resource::<bucket>/_refresh/health/*] @ Scoring/FunctionRole',
        'AwsSolutions-IAM5[Resource::*] @ Scoring/ManagementRole',
        'AwsSolutions-IAM5[Resource::<bucket>/_refresh/health/*] @ Scoring/ManagementRole',
        'AwsSolutions-IAM5[Resource::<bucket>/served_entities_history/*] @ Scoring/ManagementRole',
        'AwsSolutions-IAM5[Resource::*] @ Redrive/Role',
        'AwsSolutions-IAM5[Resource::<bucket>/_spill/*] @ Redrive/Role',
        'AwsSolutions-IAM5[Resource::*] @ ServedEntities/Role',
        'AwsSolutions-IAM5[Resource::<bucket>/served_entities_history/*] @ ServedEntities/Role',
        'AwsSolutions-IAM5[Resource::<ServedEntitiesFunction>:*] @ ServedEntities/ProviderRole',
        'AwsSolutions-IAM5[Resource::<bucket>/served_entities_history/*] @ Readers/Policy',
        ...['*/api/2.0/mlflow/*', 'PUT/api/2.0/serving-endpoints/*/*'].map((r) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<api>/<stage>/${r}] @ Scoring/ManagementPolicy`),
        'AwsSolutions-IAM5[Resource::<bucket>/*] @ CaptureStreams/DeliveryPolicy',
        'AwsSolutions-S1 @ Storage/AccessLogs',
        'CloudFormation-Validate::W7001 @ ',
        ...TABLE_KINDS.map((k) => `AwsSolutions-IAM5[Resource::<bucket>/*_${k}/*] @ Readers/Policy`),
        ...TABLE_KINDS.map((k) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/inference_tables_dev/*_${k}] @ Readers/Policy`),
        'AwsSolutions-IAM5[Resource::<bucket>/athena-results/*] @ Readers/Policy',
        'AwsSolutions-IAM5[Resource::*] @ Refresh/FunctionRole',
        'AwsSolutions-IAM5[Resource::*] @ Refresh/StateMachine/Role',
        ...['*_payload/*', '*_labels/*', '_refresh/*', '_quarantine/*', 'errors/*'].map((p) => `AwsSolutions-IAM5[Resource::<bucket>/${p}] @ Refresh/FunctionRole`),
        ...['_refresh/*', '*_labels/*', '*_unpacked/*', '*_unpack_errors/*', '*_label_rejects/*', '*_recompute_windows/*', '*_profile_metrics/*', '*_drift_metrics/*', '*_alerts/*', 'athena-results/*'].map(
          (p) => `AwsSolutions-IAM5[Resource::<bucket>/${p}] @ Refresh/StateMachine/Role`,
        ),
        'AwsSolutions-IAM5[Resource::*] @ Refresh/MetricsRole',
        ...['*_payload/*', '*_unpacked/*', '*_recompute_windows/*', '*_labels/*', '_refresh/*', 'athena-results/*', 'athena-results/unload/*'].map((p) => `AwsSolutions-IAM5[Resource::<bucket>/${p}] @ Refresh/MetricsRole`),
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/inference_tables_dev/*] @ Refresh/MetricsRole',
        ...REFRESH_STEPS.map((f) => `AwsSolutions-IAM5[Resource::<Refresh${f}Function>:*] @ Refresh/StateMachine/Role`),
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/inference_tables_dev/*] @ Refresh/StateMachine/Role',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<state machine>:*] @ Refresh/StateMachine',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<state machine>/*:*] @ Refresh/StateMachine',
      ].sort(),
    );
    for (const [id, reason] of acks) {
      expect(reason.length, id).toBeGreaterThan(20);
      expect(reason, id).not.toContain('\n');
    }
  });

  it('acknowledges unauthenticated methods only where API keys stand in for IAM', () => {
    // With IAM, only the two health checks are open.
    expect([...acknowledgments('prod').keys()].filter((k) => k.startsWith('AwsSolutions-APIG4')).sort()).toEqual(['AwsSolutions-APIG4 @ Scoring/Api/Default/health/GET', 'AwsSolutions-APIG4 @ Scoring/Api/Default/ping/GET']);
    expect([...acknowledgments('dev').keys()].some((k) => k.startsWith('AwsSolutions-APIG4'))).toBe(true);
  });
});
