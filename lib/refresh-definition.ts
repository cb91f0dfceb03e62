import { Aws, Duration, type Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type Chain,
  CustomState,
  DefinitionBody,
  DistributedMap,
  Fail,
  JitterType,
  JsonPath,
  Map as MapState,
  Pass,
  type RetryProps,
  StateGraph,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { RefreshSettings } from '../lambdas/core/config/index.js';

/**
 * The refresh workflow, defined once. CDK deploys it; the local stack runs the same
 * definition, rendered by {@link renderRefreshDefinition}, in an ASL interpreter.
 */

/** The Lambda-backed steps, by state name; the local runner binds the same names to the same functions. */
export const REFRESH_STEPS = ['Plan', 'UnpackTask', 'PrepareCommit', 'ComputeMetrics', 'FinishEndpoint', 'RecordFailure'] as const;
/** The Athena step: one SQL statement, waited for (`.sync`). */
export const SQL_STEP = 'RunStatement';
/** The same, for the statements that store an endpoint's metrics. */
export const METRICS_SQL_STEP = 'RunMetricStatement';
export type RefreshStep = (typeof REFRESH_STEPS)[number];

/** What the definition is built from. */
export interface RefreshDefinitionProps {
  readonly functions: Readonly<Record<RefreshStep, IFunction>>;
  readonly workgroup: string;
  /** Glue database the statements run in. */
  readonly database: string;
  readonly settings: RefreshSettings;
}

/**
 * How long each step's function may run (its Lambda timeout). Unpack tasks are bounded in
 * bytes (`refresh.mib_per_task`) to finish well within theirs.
 */
export const STEP_TIMEOUTS: Readonly<Record<RefreshStep, Duration>> = {
  Plan: Duration.minutes(5),
  UnpackTask: Duration.minutes(10),
  PrepareCommit: Duration.minutes(2),
  // Lambda's limit: the metrics of the windows one run touched.
  ComputeMetrics: Duration.minutes(15),
  FinishEndpoint: Duration.minutes(5),
  RecordFailure: Duration.minutes(1),
};
/** One SQL statement may run this long (Athena's DML timeout is 30 minutes by default). */
export const STATEMENT_TIMEOUT = Duration.hours(1);

/**
 * Every task has an explicit timeout: Step Functions' default is a year, so a lost task would
 * hold the run (and the next scheduled ones) until the run's own timeout.
 */
const taskTimeout = (d: Duration) => Timeout.duration(d.plus(Duration.minutes(1)));

/** Every task retries transient failures with exponential backoff and jitter. */
const RETRY: RetryProps = { errors: ['States.ALL'], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2, jitterStrategy: JitterType.FULL };

function step(scope: Construct, name: RefreshStep, fn: IFunction, options: { resultPath?: string } = {}): LambdaInvoke {
  const task = new LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // The function stops itself first; this catches an invocation that never answers.
    taskTimeout: taskTimeout(STEP_TIMEOUTS[name]),
    ...options,
  });
  task.addRetry(RETRY);
  return task;
  // payloadResponseOnly: the function's answer is the state's output, with no invocation metadata.
}

/**
 * One SQL statement on Athena, waited for. The integration is written out rather than CDK's
 * AthenaStartQueryExecution, whose generated policy reads every bucket (s3:GetObject on *);
 * RefreshWorkflow grants the state machine only this workgroup, database and bucket.
 */
function sqlState(scope: Construct, name: string, props: RefreshDefinitionProps): CustomState {
  const state = new CustomState(scope, name, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::athena:startQueryExecution.sync`,
      Parameters: { 'QueryString.$': '$.sql', WorkGroup: props.workgroup, QueryExecutionContext: { Database: props.database } },
      ResultPath: null,
      TimeoutSeconds: STATEMENT_TIMEOUT.toSeconds(),
    },
  });
  state.addRetry({ ...RETRY, errors: ['Athena.TooManyRequestsException', 'Athena.InternalServerException', 'States.Timeout'] });
  return state;
}

/**
 * Plan → unpack the new payload files (a Distributed Map of tasks) → for each endpoint:
 * prepare its SQL, run the statements one by one on Athena, compute its metrics and store
 * them the same way, then move its watermarks.
 * Any failure is recorded by RecordFailure and fails the run; watermarks move only in
 * FinishEndpoint, after the endpoint's statements succeeded.
 */
export function buildRefreshDefinition(scope: Construct, props: RefreshDefinitionProps): Chain {
  const { functions: fns, settings } = props;
  const recordFailure = step(scope, 'RecordFailure', fns.RecordFailure).next(new Fail(scope, 'RefreshFailed', { errorPath: '$.error', causePath: '$.cause' }));

  const plan = step(scope, 'Plan', fns.Plan);
  const unpack = new DistributedMap(scope, 'Unpack', {
    itemsPath: '$.tasks',
    maxConcurrency: settings.max_concurrency,
    // Each task's rows are in the store; only counts come back, and they are not kept.
    resultPath: JsonPath.DISCARD,
  }).itemProcessor(step(scope, 'UnpackTask', fns.UnpackTask));

  const statements = new MapState(scope, 'RunStatements', { itemsPath: '$.commit.statements', maxConcurrency: 1, resultPath: JsonPath.DISCARD }).itemProcessor(
    sqlState(scope, SQL_STEP, props),
  );
  const metricStatements = new MapState(scope, 'RunMetricStatements', { itemsPath: '$.metrics.statements', maxConcurrency: 1, resultPath: JsonPath.DISCARD }).itemProcessor(
    sqlState(scope, METRICS_SQL_STEP, props),
  );
  const commitOne = step(scope, 'PrepareCommit', fns.PrepareCommit, { resultPath: '$.commit' })
    .next(statements)
    .next(step(scope, 'ComputeMetrics', fns.ComputeMetrics, { resultPath: '$.metrics' }))
    .next(metricStatements)
    .next(step(scope, 'FinishEndpoint', fns.FinishEndpoint));
  // One endpoint at a time keeps the Athena load of a run flat.
  const commit = new MapState(scope, 'Commit', { itemsPath: '$.endpoints', maxConcurrency: 1, resultPath: '$.reports' }).itemProcessor(commitOne);
  const report = new Pass(scope, 'Report', { parameters: { 'run_id.$': '$.run_id', 'started_at.$': '$.started_at', 'reports.$': '$.reports' } });

  for (const s of [plan, unpack, commit]) s.addCatch(recordFailure, { resultPath: '$.error' });
  return plan.next(unpack).next(commit).next(report);
}

/** A run that takes longer is stopped (and can be run again: every step is idempotent). */
export const REFRESH_TIMEOUT = Duration.hours(6);

/** The Amazon States Language JSON of a definition, with any tokens resolved in `stack`. */
export function renderDefinition(stack: Stack, chain: Chain): Record<string, unknown> {
  const graph = new StateGraph(chain.startState, 'refresh');
  graph.timeout = REFRESH_TIMEOUT;
  return stack.resolve(graph.toGraphJson()) as Record<string, unknown>;
}

/** The body CDK deploys. */
export function refreshDefinitionBody(chain: Chain): DefinitionBody {
  return DefinitionBody.fromChainable(chain);
}
