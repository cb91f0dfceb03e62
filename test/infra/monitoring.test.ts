import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RefreshMetric, HealthMetric } from '../../lambdas/core/metric-names.js';
import { CaptureMetric } from '../../lambdas/core/spill.js';
import { configWith, demoConfig } from '../helpers/config.js';
import { only, synthesize } from '../helpers/stacks.js';

const config = configWith((c) => {
  c.endpoints[0].monitoring = { alerts: { emails: ['oncall@example.com'], quality_floors: { accuracy_score: 0.9 } } };
});
const { template } = synthesize(config);
const monitored = [...config.endpoints.map((e) => e.name), ...config.models.map((m) => m.name)];

const topicRef = () => ({ Ref: only(template, 'AWS::SNS::Topic').logicalId });

describe('monitoring: alarms, alerts topic, dashboards', () => {
  it('has one alerts topic, encrypted with the environment key', () => {
    const topic = only(template, 'AWS::SNS::Topic');
    expect(topic.Properties.TopicName).toBe(`inference-tables-${config.environment}-alerts`);
    const key = only(template, 'AWS::KMS::Key').logicalId;
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key, 'Arn'] });
  });

  it('refuses publishing to the topic without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('lets CloudWatch alarms use the key to publish to the encrypted topic', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
  });

  it('mails the addresses of monitoring.alerts.emails', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: topicRef() });
  });

  it('alarms once per endpoint on the alerts its refresh raised, notifying the topic', () => {
    const alarms = (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: any }[]).filter((a) => a.Properties.AlarmName.endsWith('-alerts'));
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(monitored.map((e) => `inference-tables-${config.environment}-${e}-alerts`).sort());
    for (const { Properties: p } of alarms) {
      expect(p).toMatchObject({ Namespace: 'InferenceTables', MetricName: 'Alerts', Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      expect(p.AlarmActions).toEqual([topicRef()]);
      expect(p.Period).toBe(config.refresh.schedule_minutes * 60);
    }
  });

  it('has a dashboard per endpoint with volume, latency, errors, drift and quality', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as { Properties: any }[];
    expect(dashboards.map((d) => d.Properties.DashboardName).sort()).toEqual(monitored.map((e) => `inference-tables-${config.environment}-${e}`).sort());
    const iris = dashboards.find((d) => d.Properties.DashboardName.endsWith('-iris'));
    const body = JSON.stringify(iris?.Properties.DashboardBody);
    for (const metric of ['RequestCount', 'LatencyP99', 'ErrorRate', 'DriftedColumns', 'JsDistance', 'Accuracy', 'Alerts']) expect(body, metric).toContain(metric);
    // The capture counters of the endpoint, as the functions publish them (environment and endpoint).
    const text = (iris?.Properties.DashboardBody['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('');
    for (const metric of ['CaptureRetried', 'CaptureSpilled', 'CaptureLost', 'CaptureRedriven']) expect(text, metric).toContain(`"${metric}","Endpoint","iris","Environment","${config.environment}"`);
  });

  it('draws the text metrics on the dashboards of endpoints that serve an external or Bedrock model only', () => {
    const llm = configWith((c) => {
      c.models.push({ name: 'gpt', versions: [{ version: '1', stage: 'Production', backend: { type: 'bedrock', model_id: 'anthropic.claude-3-haiku-20240307-v1:0' } }] });
      c.endpoints.push({ name: 'assistant', served_entities: [{ entity_name: 'gpt', entity_version: '1', traffic_percentage: 100 }] });
    });
    const dashboards = Object.values(synthesize(llm).template.findResources('AWS::CloudWatch::Dashboard')) as { Properties: any }[];
    const body = (name: string) => JSON.stringify(dashboards.find((d) => d.Properties.DashboardName.endsWith(`-${name}`))?.Properties.DashboardBody);
    for (const name of ['assistant', 'gpt']) {
      for (const metric of [RefreshMetric.completionTokens, RefreshMetric.timeToFirstToken, RefreshMetric.outputTokensPerSecond, RefreshMetric.emptyAnswerRate]) expect(body(name), `${name} ${metric}`).toContain(metric);
    }
    expect(body('iris')).not.toContain(RefreshMetric.completionTokens);
  });

  it('alarms and draws only metrics the refresh and the capture path publish, by their shared names', () => {
    const published = new Set<string>([...Object.values(RefreshMetric), ...Object.values(HealthMetric), ...Object.values(CaptureMetric)]);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: any }[];
    for (const { Properties: p } of alarms.filter((a) => a.Properties.Namespace === 'InferenceTables')) expect(published).toContain(p.MetricName);
    for (const d of Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as { Properties: any }[]) {
      const text = (d.Properties.DashboardBody['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('');
      const drawn = [...text.matchAll(/\["InferenceTables","(\w+)"/g), ...text.matchAll(/MetricName=\\"(\w+)\\"/g)].map((m) => m[1]);
      expect(drawn.length).toBeGreaterThan(0);
      for (const name of drawn) expect(published).toContain(name);
    }
  });

  it('alarms when a table is unwell, a run fails or times out, no run succeeds for two intervals, or Firehose refuses records', () => {
    const alarms = new Map(
      (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: any }[]).map((a) => [String(a.Properties.AlarmName).replace(`inference-tables-${config.environment}-`, ''), a.Properties]),
    );
    for (const endpoint of ['iris', 'chat', 'iris-classifier', 'echo']) {
      expect(alarms.get(`${endpoint}-tables`), endpoint).toMatchObject({ Namespace: 'InferenceTables', MetricName: 'TableHealth', Statistic: 'Maximum', Threshold: 1, Dimensions: [{ Name: 'Endpoint', Value: endpoint }] });
    }
    expect(alarms.get('refresh-failed')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsFailed', Threshold: 1 });
    expect(alarms.get('refresh-timed-out')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsTimedOut', Threshold: 1 });
    // A stopped schedule leaves no data point: missing data breaches.
    expect(alarms.get('refresh-missing')).toMatchObject({ Namespace: 'AWS/States', MetricName: 'ExecutionsSucceeded', Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', Period: 2 * config.refresh.schedule_minutes * 60 });
    const conversion = alarms.get('conversion-failed');
    const used = (conversion.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: string }[] } } }[]).filter((m) => m.MetricStat);
    expect(used.map((m) => m.MetricStat?.Metric.MetricName)).toEqual(Array(used.length).fill('FailedConversion.Records'));
    expect(used.map((m) => m.MetricStat?.Metric.Dimensions[0]?.Value).sort()).toEqual(['chat', 'echo', 'iris', 'iris-classifier', 'unrouted'].map((e) => `inference-tables-${config.environment}-${e}`).sort());
  });

  it('lets only the metrics step publish metrics, and only in the InferenceTables namespace', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: any }[];
    const publishing = policies.filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('cloudwatch:PutMetricData'));
    expect(publishing).toHaveLength(1);
    expect(publishing[0]?.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^RefreshMetricsRole/) }]);
    const statement = publishing[0]?.Properties.PolicyDocument.Statement.find((s: { Action: unknown }) => s.Action === 'cloudwatch:PutMetricData');
    expect(statement.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'InferenceTables' } });
  });

  it('gives the metrics step the workgroup it queries through', () => {
    const fn = only(template, 'AWS::Lambda::Function', { Handler: 'index.metrics' });
    expect(fn.Properties.Environment.Variables.INFERENCE_TABLES_WORKGROUP).toBe(`inference-tables-${config.environment}`);
    expect(fn.Properties.MemorySize).toBe(3072);
  });

  it('monitors nothing for an endpoint with monitoring disabled', () => {
    const off = synthesize(configWith((c) => (c.endpoints[0].monitoring = { enabled: false }))).template;
    const names = Object.values(off.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.AlarmName);
    expect(names).not.toContain(`inference-tables-${demoConfig().environment}-iris-alerts`);
  });
});
