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
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { HealthMetric, METRICS_NAMESPACE, MetricDimension, RefreshMetric } from '../../lambdas/core/metric-names.js';
import { ALERT_KINDS, windowLength } from '../../lambdas/core/monitoring/index.js';
import { CaptureMetric } from '../../lambdas/core/spill.js';
import { GRANULARITIES, type Granularity, type MonitoringSettings } from '../../lambdas/core/config/index.js';

/** An endpoint (or classic-route model) the refresh monitors. */
export interface MonitoredEndpoint {
  readonly name: string;
  readonly monitoring: MonitoringSettings;
  /** It serves an LLM (an `openai` or `bedrock` backend): its dashboard draws the text metrics too. */
  readonly llm?: boolean;
}

/** Props of {@link MonitoringAlarms}. */
export interface MonitoringAlarmsProps {
  /** Environment name, in the topic's and alarms' names. */
  readonly environment: string;
  /** The monitored endpoints (and classic-route models), each with its monitoring settings. */
  readonly endpoints: readonly MonitoredEndpoint[];
  /** Minutes between two refreshes: an alarm looks at that span (CloudWatch periods: up to a day). */
  readonly refreshMinutes: number;
  /** Encrypts the alerts topic; CloudWatch is allowed to use it to publish. */
  readonly key: IKey;
  /**
   * The refresh state machine: its failed and timed-out executions alarm, and so does a
   * missing successful run when the schedule is on.
   * @default no refresh alarms
   */
  readonly refresh?: { readonly stateMachine: IStateMachine; readonly scheduled: boolean };
  /**
   * The capture streams (Firehose delivery stream names): records their Parquet conversion
   * refuses (written under `errors/`) alarm.
   * @default no conversion alarm
   */
  readonly deliveryStreams?: readonly string[];
}

/** CloudWatch alarms take at most 10 metrics in one expression. */
const METRICS_PER_ALARM = 10;

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
    for (const { name, monitoring, llm } of props.endpoints) {
      if (monitoring.enabled) this.endpoint(environment, name, monitoring, alarmPeriod, llm ?? false);
      this.tables(environment, name, alarmPeriod);
    }
    if (props.refresh) this.refresh(environment, props.refresh, props.refreshMinutes);
    this.conversions(environment, props.deliveryStreams ?? []);
  }

  private alarm(id: string, props: { name: string; description: string; metric: IMetric; threshold: number; missing: TreatMissingData; below?: boolean }): Alarm {
    const created = new Alarm(this, id, {
      alarmName: props.name,
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.below ? ComparisonOperator.LESS_THAN_THRESHOLD : ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: props.missing,
    });
    created.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(created);
    return created;
  }

  /** The health of an endpoint's tables, as the last run recorded it (quarantined files, failed refresh, schema, labels). */
  private tables(environment: string, endpoint: string, period: Duration): void {
    this.alarm(`${endpoint}-tables`, {
      name: `inference-tables-${environment}-${endpoint}-tables`,
      description: `The tables of ${endpoint} are DEGRADED or FAILED: run inference-tables doctor --env ${environment} for the cause and the fix.`,
      metric: new Metric({ namespace: METRICS_NAMESPACE, metricName: HealthMetric.tableHealth, dimensionsMap: { [MetricDimension.endpoint]: endpoint }, statistic: 'Maximum', period }),
      threshold: 1,
      // No run, no figure: the missing-refresh alarm says so.
      missing: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Runs that fail or time out, and a schedule with no successful run for two intervals. */
  private refresh(environment: string, refresh: NonNullable<MonitoringAlarmsProps['refresh']>, minutes: number): void {
    const period = Duration.minutes(Math.min(minutes, 1440));
    this.alarm('refresh-failed', {
      name: `inference-tables-${environment}-refresh-failed`,
      description: 'A refresh run failed: its error names the endpoint or the step (inference-tables doctor, or the execution in Step Functions).',
      metric: refresh.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      threshold: 1,
      missing: TreatMissingData.NOT_BREACHING,
    });
    this.alarm('refresh-timed-out', {
      name: `inference-tables-${environment}-refresh-timed-out`,
      description: 'A refresh run timed out: a step hung, or a run had far more to do than usual.',
      metric: refresh.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      threshold: 1,
      missing: TreatMissingData.NOT_BREACHING,
    });
    if (!refresh.scheduled) return;
    // A schedule that stopped leaves no data point: missing data breaches here.
    this.alarm('refresh-missing', {
      name: `inference-tables-${environment}-refresh-missing`,
      description: `No refresh run succeeded for two intervals of ${minutes} min: the schedule stopped, or every run fails.`,
      metric: refresh.stateMachine.metricSucceeded({ period: Duration.minutes(Math.min(2 * minutes, 1440)), statistic: 'Sum' }),
      threshold: 1,
      below: true,
      missing: TreatMissingData.BREACHING,
    });
  }

  /** Records the capture streams' Parquet conversion refused (a schema changed outside the product, a record it cannot read). */
  private conversions(environment: string, streams: readonly string[]): void {
    for (let i = 0; i < streams.length; i += METRICS_PER_ALARM) {
      const group = streams.slice(i, i + METRICS_PER_ALARM);
      const metrics = Object.fromEntries(
        group.map((name, j) => [`s${j}`, new Metric({ namespace: 'AWS/Firehose', metricName: 'FailedConversion.Records', dimensionsMap: { DeliveryStreamName: name }, statistic: 'Sum', period: Duration.minutes(5) })]),
      );
      const suffix = streams.length > METRICS_PER_ALARM ? `-${i / METRICS_PER_ALARM + 1}` : '';
      this.alarm(`conversion-failed${suffix}`, {
        name: `inference-tables-${environment}-conversion-failed${suffix}`,
        description: 'Firehose wrote captured records under errors/ instead of the payload tables (its Parquet conversion refused them): the Glue table or the records changed; redeploy, then replay the error records.',
        metric: new MathExpression({ expression: Object.keys(metrics).join(' + '), usingMetrics: metrics, period: Duration.minutes(5), label: 'records refused' }),
        threshold: 1,
        missing: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  private endpoint(environment: string, endpoint: string, settings: MonitoringSettings, alarmPeriod: Duration, llm: boolean): void {
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
    if (llm) {
      const mean = (name: string) => metric(name, 'Average');
      widgets.push(
        new GraphWidget({ title: 'Tokens per call (mean)', left: [mean(RefreshMetric.promptTokens), mean(RefreshMetric.completionTokens)], width: 8 }),
        new GraphWidget({ title: 'Time to first token (ms) and output tokens per second', left: [mean(RefreshMetric.timeToFirstToken)], right: [mean(RefreshMetric.outputTokensPerSecond)], width: 8 }),
        new GraphWidget({ title: 'Empty and refused answers (rate)', left: [mean(RefreshMetric.emptyAnswerRate), mean(RefreshMetric.refusalRate)], width: 8 }),
      );
    }
    const dashboard = new Dashboard(this, `${endpoint}-dashboard`, { dashboardName: `inference-tables-${environment}-${endpoint}`, defaultInterval: Duration.days(7) });
    dashboard.addWidgets(...widgets);
    this.dashboards.push(dashboard);
  }
}
