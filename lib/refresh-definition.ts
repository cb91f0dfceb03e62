import { App, Aws, Duration, Stack } from 'aws-cdk-lib';
import { type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type Chain,
  CustomState,
  DefinitionBody,
  DistributedMap,
  Choice,
  Condition,
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
import type { Config, RefreshSettings } from '../lambdas/core/config/index.js';
import { environmentNames } from '../lambdas/core/names.js';
import { METRICS_SQL_STEP, REFRESH_STEPS, REFRESH_STEP_SPECS, type RefreshStep, SQL_STEP } from '../lambdas/core/refresh-steps.js';

/**
 * The refresh workflow, defined once. CDK deploys it; the local stack runs the same
 * definition, rendered by {@link localRefreshDefinition}, in an ASL interpreter. Its steps
 * are those of the registry, `lambdas/core/refresh-steps.ts`.
 */

/** What the definition is built from. */
export interface RefreshDefinitionProps {
  readonly functions: Readonly<Record<RefreshStep, IFunction>>;
  readonly workgroup: string;
  /** Glue database the statements run in. */
  readonly database: string;
  readonly settings: RefreshSettings;
}

/** How long each step's function may run (its Lambda timeout), from the step registry. */
export const STEP_TIMEOUTS: Readonly<Record<RefreshStep, Duration>> = Object.fromEntries(REFRESH_STEPS.map((s) => [s, Duration.minutes(REFRESH_STEP_SPECS[s].timeoutMinutes)])) as Record<RefreshStep, Duration>;
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
  // A task that fails for good leaves no summary; its endpoint's commit then fails alone.
  const unpackTask = step(scope, 'UnpackTask', fns.UnpackTask).addCatch(new Pass(scope, 'UnpackTaskFailed'), { resultPath: '$.error' });
  const unpack = new DistributedMap(scope, 'Unpack', {
    itemsPath: '$.tasks',
    maxConcurrency: settings.max_concurrency,
    // Each task's rows are in the store; only counts come back, and they are not kept.
    resultPath: JsonPath.DISCARD,
  }).itemProcessor(unpackTask);

  const statements = new MapState(scope, 'RunStatements', { itemsPath: '$.commit.statements', maxConcurrency: 1, resultPath: JsonPath.DISCARD }).itemProcessor(
    sqlState(scope, SQL_STEP, props),
  );
  const metricStatements = new MapState(scope, 'RunMetricStatements', { itemsPath: '$.metrics.statements', maxConcurrency: 1, resultPath: JsonPath.DISCARD }).itemProcessor(
    sqlState(scope, METRICS_SQL_STEP, props),
  );
  // One endpoint's failure is its own: recorded, and the next endpoint is committed.
  const endpointFailed = step(scope, 'EndpointFailed', fns.EndpointFailed);
  const caught = <T extends LambdaInvoke | MapState>(s: T): T => s.addCatch(endpointFailed, { resultPath: '$.error' }) as T;
  const commitOne = caught(step(scope, 'PrepareCommit', fns.PrepareCommit, { resultPath: '$.commit' }))
    .next(caught(statements))
    .next(caught(step(scope, 'ComputeMetrics', fns.ComputeMetrics, { resultPath: '$.metrics' })))
    .next(caught(metricStatements))
    .next(caught(step(scope, 'FinishEndpoint', fns.FinishEndpoint)));
  // One endpoint at a time keeps the Athena load of a run flat.
  const commit = new MapState(scope, 'Commit', { itemsPath: '$.endpoints', maxConcurrency: 1, resultPath: '$.reports' }).itemProcessor(commitOne);
  const close = step(scope, 'CloseRun', fns.CloseRun);
  const report = new Pass(scope, 'Report', { parameters: { 'run_id.$': '$.run_id', 'started_at.$': '$.started_at', 'reports.$': '$.reports' } });
  // A run with a failed endpoint fails, naming it, after the others committed.
  const outcome = new Choice(scope, 'AnyEndpointFailed')
    .when(Condition.booleanEquals('$.failed', true), new Fail(scope, 'EndpointsFailed', { errorPath: '$.error', causePath: '$.cause' }))
    .otherwise(report);

  for (const s of [plan, unpack, commit, close]) s.addCatch(recordFailure, { resultPath: '$.error' });
  return plan.next(unpack).next(commit).next(close).next(outcome);
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

/** Local stand-in ARN of a step's function; the interpreter never calls it (the step is bound in process). */
export function localFunctionArn(environment: string, step: RefreshStep): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:inference-tables-${environment}-refresh-${step}`;
}

/**
 * The refresh definition exactly as CDK synthesizes it for this environment, with the step
 * functions standing in by ARN: what the local runner executes. The same
 * {@link buildRefreshDefinition} makes the deployed one.
 */
export function localRefreshDefinition(config: Config): Record<string, unknown> {
  const stack = new Stack(new App(), 'LocalRefresh', { env: { account: '000000000000', region: 'us-east-1' } });
  const functions = Object.fromEntries(REFRESH_STEPS.map((s) => [s, LambdaFunction.fromFunctionArn(stack, `${s}Function`, localFunctionArn(config.environment, s))])) as Record<RefreshStep, IFunction>;
  const names = environmentNames(config.environment, config.database);
  const chain = buildRefreshDefinition(stack, { functions, workgroup: names.workgroup, database: names.database, settings: config.refresh });
  return withPseudoParameters(renderDefinition(stack, chain)) as Record<string, unknown>;
}

/** AWS pseudo parameters of the local stand-in account, as CloudFormation would substitute them. */
export const LOCAL_PSEUDO: Readonly<Record<string, string>> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '000000000000', 'AWS::URLSuffix': 'amazonaws.com' };

/** Replaces `Fn::Join` and pseudo-parameter `Ref`s by their values, as CloudFormation does at deploy time. */
export function withPseudoParameters(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withPseudoParameters);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string' && o.Ref in LOCAL_PSEUDO) return LOCAL_PSEUDO[o.Ref];
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(withPseudoParameters(p))).join(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, withPseudoParameters(v)]));
}
