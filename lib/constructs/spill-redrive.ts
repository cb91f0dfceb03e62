import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/core/metric-names.js';
import { CaptureMetric, SPILL_PREFIX } from '../../lambdas/core/spill.js';
import type { CaptureStorage } from './capture-storage.js';
import type { CaptureStreams } from './capture-streams.js';
import { ProjectFunction } from './project-function.js';

/** A redrive run's limit: 1,000 spill objects at Firehose's pace fit well inside it. */
const REDRIVE_TIMEOUT = Duration.minutes(5);

/** Props of {@link SpillRedrive}. */
export interface SpillRedriveProps {
  /** Environment name, in the function's and alarms' names. */
  readonly environment: string;
  /** The environment's configuration file, bundled with the function (it names the streams). */
  readonly configFile: string;
  /** Minutes between two runs (`delivery.redrive_minutes`). */
  readonly redriveMinutes: number;
  readonly storage: CaptureStorage;
  readonly streams: CaptureStreams;
  readonly topic: ITopic;
  readonly logRetention: RetentionDays;
}

/**
 * What brings spilled capture records back, and what says they exist: a function on the
 * `delivery.redrive_minutes` schedule that puts the spill prefix back into the streams, and
 * alarms (to the alerts topic) on records spilled, lost, retried in bulk, and on a redrive
 * that fails.
 */
export class SpillRedrive extends Construct {
  public readonly function: ProjectFunction;
  public readonly alarms: Alarm[] = [];

  public constructor(scope: Construct, id: string, props: SpillRedriveProps) {
    super(scope, id);
    const { environment } = props;
    const logs = ProjectFunction.logGroup(this, 'Logs', props.storage.key, props.logRetention);
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `inference-tables ${environment} redrive of spilled capture records` });
    logs.grantWrite(role);
    this.function = new ProjectFunction(this, 'Function', {
      description: `inference-tables ${environment}: puts spilled capture records back into the streams`,
      entry: 'redrive.ts',
      handler: 'redrive',
      timeout: REDRIVE_TIMEOUT,
      // Runs never overlap: one at a time deletes what it redrove.
      reservedConcurrentExecutions: 1,
      role,
      logGroup: logs,
      configFile: props.configFile,
      key: props.storage.key,
    });
    props.streams.grantPutRecords(this.function);
    props.storage.grantSpillRedrive(this.function);
    new Rule(this, 'Schedule', {
      description: `inference-tables ${environment}: redrive spilled capture records`,
      schedule: Schedule.rate(Duration.minutes(props.redriveMinutes)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0 })],
    });

    const env = { Environment: environment };
    const sum = (name: string, minutes: number) => new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: env, statistic: 'Sum', period: Duration.minutes(minutes) });
    const alarm = (name: string, description: string, metric: Metric, threshold: number) => {
      const a = new Alarm(this, name, {
        alarmName: `inference-tables-${environment}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new SnsAction(props.topic));
      this.alarms.push(a);
    };
    alarm('capture-lost', 'Capture records were lost: Firehose and the S3 spill both failed (the function logs name their request ids).', sum(CaptureMetric.lost, 5), 1);
    alarm('capture-spilled', `Capture records were spilled to ${SPILL_PREFIX} in the data bucket; the scheduled redrive puts them back.`, sum(CaptureMetric.spilled, 5), 1);
    alarm('capture-retried', 'Firehose throttled or refused many capture records (retried); consider more streams per endpoint.', sum(CaptureMetric.retried, 5), 100);
    alarm('redrive-failed', 'The scheduled redrive of spilled capture records failed; spilled records are waiting.', this.function.metricErrors({ period: Duration.minutes(Math.max(5, props.redriveMinutes)) }), 1);
  }
}
