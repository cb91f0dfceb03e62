import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, MetricDimension, RefreshMetric } from '../../lambdas/core/metric-names.js';
import { ALERT_KINDS, windowLength } from '../../lambdas/core/monitoring/index.js';
import { CaptureMetric } from '../../lambdas/core/spill.js';
import { GRANULARITIES, type Granularity, type MonitoringSettings } from '../../lambdas/core/config/index.js';

/** Props of {@link MonitoringAlarms}. */
export interface MonitoringAlarmsProps {
  /** Environment name, in the topic's and alarms' names. */
  readonly environment: string;
  /** The monitored endpoints (and classic-route models), each with its monitoring settings. */
  readonly endpoints: readonly { readonly name: string; readonly monitoring: MonitoringSettings }[];
  /** Minutes between two refreshes: an alarm looks at that span (CloudWatch periods: up to a day). */
  readonly refreshMinutes: number;
  /** Encrypts the alerts topic; CloudWatch is allowed to use it to publish. */
  readonly key: IKey;
}

/**
 * An alarm and a dashboard per endpoint, and the alerts topic, over the metrics each refresh
 * publishes (namespace `InferenceTables`): figures at each window's own time, and the alerts
 * the run raised from the endpoint's `monitoring.alerts`. Alarms notify the topic, which
 * mails `alerts.emails`.
 */
export class MonitoringAlarms extends Construct {
  public readonly topic: Topic;
  public readonly alarms: Alarm[] = [];
  public readonly dashboards: Dashboard[] = [];

  public constructor(scope: Construct, id: string, props: MonitoringAlarmsProps) {
    super(scope, id);
    const { environment } = props;
    this.topic = new Topic(this, 'Alerts', { topicName: `inference-tables-${environment}-alerts`, masterKey: props.key, enforceSSL: true });
    // CloudWatch publishes alarm notifications to the encrypted topic with this key.
    props.key.addToResourcePolicy(
      new PolicyStatement({ principals: [new ServicePrincipal('cloudwatch.amazonaws.com')], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }),
    );
    const emails = new Set(props.endpoints.flatMap((e) => e.monitoring.alerts.emails));
    for (const email of emails) this.topic.addSubscription(new EmailSubscription(email));
    // An alarm looks at the span between two refreshes (CloudWatch periods: up to a day).
    const alarmPeriod = Duration.minutes(Math.min(props.refreshMinutes, 1440));
    for (const { name, monitoring } of props.endpoints) {
      if (monitoring.enabled) this.endpoint(environment, name, monitoring, alarmPeriod);
    }
  }

  private endpoint(environment: string, endpoint: string, settings: MonitoringSettings, alarmPeriod: Duration): void {
    // Alarms and graphs follow the finest window computed.
    const granularity = [...settings.granularities].sort((a, b) => GRANULARITIES.indexOf(a) - GRANULARITIES.indexOf(b))[0] as Granularity;
    const period = Duration.millis(windowLength(granularity));
    const metric = (name: string, statistic: string, extra: Record<string, string> = {}) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { [MetricDimension.endpoint]: endpoint, [MetricDimension.granularity]: granularity, ...extra }, statistic, period });
    // The thresholds (monitoring.alerts) are applied by the metrics step, locally and on AWS
    // alike; each alert it raises counts in `Alerts`, stamped at the run, so an alert on an
    // old window (late labels) alarms now. One alarm per endpoint keeps the stack far from
    // CloudFormation's 500 resources however many endpoints there are.
    const alerts = new Metric({ namespace: METRICS_NAMESPACE, metricName: RefreshMetric.alerts, dimensionsMap: { [MetricDimension.endpoint]: endpoint }, statistic: 'Sum', period: alarmPeriod });
    const created = new Alarm(this, `${endpoint}-alerts`, {
      alarmName: `inference-tables-${environment}-${endpoint}-alerts`,
      alarmDescription: `The refresh raised alerts for ${endpoint} (drift, quality, error rate, latency or volume): see the ${endpoint.replaceAll('-', '_')}_alerts table`,
      metric: alerts,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No run, no alert: a refresh that stops fails its own execution instead.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(created);
    const byKind = (kind: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: RefreshMetric.alerts, dimensionsMap: { [MetricDimension.endpoint]: endpoint, [MetricDimension.kind]: kind }, statistic: 'Sum', period: alarmPeriod, label: kind });
    // The dimensions of the per-column drift metrics, as SEARCH lists them (sorted).
    const columnDimensions = [MetricDimension.column, MetricDimension.driftType, MetricDimension.endpoint, MetricDimension.granularity].sort().join(',');
    const search = (name: string) =>
      new MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${columnDimensions}} MetricName="${name}" ${MetricDimension.endpoint}="${endpoint}" ${MetricDimension.granularity}="${granularity}"', 'Maximum', ${period.toSeconds()})`,
        label: '',
        period,
      });
    // Counted by the scoring and redrive functions at each event (embedded metric format).
    const capture = (name: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { Environment: environment, Endpoint: endpoint }, statistic: 'Sum', period: Duration.minutes(5), label: name });
    const widgets: IWidget[] = [
      new AlarmStatusWidget({ title: 'Alarm', alarms: [created], width: 8, height: 3 }),
      new GraphWidget({ title: 'Alerts raised, by kind', left: ALERT_KINDS.map(byKind), width: 16, height: 3 }),
      new GraphWidget({ title: 'Requests and predictions', left: [metric(RefreshMetric.requestCount, 'Sum'), metric(RefreshMetric.predictions, 'Sum')], width: 8 }),
      new GraphWidget({ title: 'Latency (ms)', left: [metric(RefreshMetric.latencyP50, 'Maximum'), metric(RefreshMetric.latencyP99, 'Maximum')], width: 8 }),
      new GraphWidget({ title: 'Error rate (5xx)', left: [metric(RefreshMetric.errorRate, 'Maximum')], width: 8 }),
      new GraphWidget({ title: 'Capture: retried, spilled, lost, redriven', left: Object.values(CaptureMetric).map(capture), width: 8 }),
      new GraphWidget({
        title: 'Drifted columns',
        left: (['BASELINE', 'CONSECUTIVE'] as const).map((type) => metric(RefreshMetric.driftedColumns, 'Maximum', { [MetricDimension.driftType]: type })),
        width: 8,
      }),
      new GraphWidget({ title: 'JS distance per column', left: [search(RefreshMetric.jsDistance)], width: 8 }),
      new GraphWidget({
        title: 'Quality',
        left: [RefreshMetric.accuracy, RefreshMetric.f1Macro, RefreshMetric.r2, RefreshMetric.labelCoverage].map((name) => metric(name, 'Minimum')),
        right: [RefreshMetric.rootMeanSquaredError, RefreshMetric.logLoss].map((name) => metric(name, 'Maximum')),
        width: 8,
      }),
    ];
    const dashboard = new Dashboard(this, `${endpoint}-dashboard`, { dashboardName: `inference-tables-${environment}-${endpoint}`, defaultInterval: Duration.days(7) });
    dashboard.addWidgets(...widgets);
    this.dashboards.push(dashboard);
  }
}
