import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Config } from '../../core/config/index.js';
import { METRICS_SQL_STEP, REFRESH_STEPS, type RefreshStep, SQL_STEP, buildRefreshDefinition, renderDefinition } from '../../../lib/refresh-definition.js';
import { environmentNames } from '../../core/names.js';
import { athenaToLocalSql } from '../../core/sql-dialect.js';
import {
  type EndpointReport,
  type EndpointRun,
  type RefreshDeps,
  type UnpackTask,
  capturedEndpoints,
  finishEndpoint,
  planRefresh,
  prepareCommit,
  recordFailure,
  unpackTask,
} from '../../workflow/steps.js';
import { FileObjectStore } from './file-object-store.js';
import { UnpackPool } from './unpack-pool.js';
import { openWarehouse } from './warehouse.js';
import { connectionEngine } from './query-engine.js';
import { computeEndpointMetrics } from '../../workflow/metrics-step.js';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    },
  });
}

/** A JSON value passed between states. */
type JSONValue = Parameters<StateMachine['run']>[0];

/** Local stand-in ARN of a step's function; the interpreter never calls it (the step is bound in process). */
export function localFunctionArn(environment: string, step: RefreshStep): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:inference-tables-${environment}-refresh-${step}`;
}

/**
 * The refresh definition exactly as CDK synthesizes it for this environment, with the step
 * functions standing in by ARN. The same {@link buildRefreshDefinition} makes the deployed one.
 */
export function localRefreshDefinition(config: Config): Record<string, unknown> {
  const stack = new Stack(new App(), 'LocalRefresh', { env: { account: '000000000000', region: 'us-east-1' } });
  const functions = Object.fromEntries(REFRESH_STEPS.map((s) => [s, LambdaFunction.fromFunctionArn(stack, `${s}Function`, localFunctionArn(config.environment, s))])) as Record<RefreshStep, LambdaFunction>;
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

/** Progress of a local run, for the command line. */
export interface RefreshProgress {
  readonly state: string;
  readonly kind: 'entered' | 'exited' | 'failed' | 'retried';
  readonly detail?: string;
}

/** What a run did. */
export interface RefreshResult {
  readonly run_id: string;
  readonly started_at: string;
  readonly reports: EndpointReport[];
}

/** Raised when a run failed; the failure is recorded and no watermark moved. */
export class RefreshFailedError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RefreshFailedError';
  }
}

const LOCK_FILE = '.refresh.lock';

function acquireLock(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  try {
    const fd = openSync(path, 'wx');
    writeFileSync(fd, String(process.pid));
    closeSync(fd);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const pid = Number(readFileSync(path, 'utf8'));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (alive) throw new RefreshFailedError(`A refresh is already running (process ${pid}); try again when it ends`);
    // Left by a process that is gone.
    writeFileSync(path, String(process.pid));
  }
  return () => rmSync(path, { force: true });
}

/** Options of a local run. */
export interface LocalRefreshOptions {
  readonly config: Config;
  readonly dataDir: string;
  readonly endpoints?: readonly string[];
  readonly onProgress?: (p: RefreshProgress) => void;
  /** Overrides a step, to inject a failure in tests. */
  readonly stepOverrides?: Partial<Record<RefreshStep | typeof SQL_STEP | typeof METRICS_SQL_STEP, (input: JSONValue) => Promise<JSONValue>>>;
  /** Folder baseline files are resolved from; default: the working directory. */
  readonly projectRoot?: string;
  /** Unpack tasks run at once, each on its own thread; default: the machine's cores. */
  readonly unpackThreads?: number;
}

/**
 * Runs the synthesized refresh definition in aws-local-stepfunctions: the Lambda steps are
 * bound to the same step functions the deployed Lambdas export, with the local object store;
 * the Athena step runs its statement on the local warehouse.
 */
export async function runLocalRefresh(options: LocalRefreshOptions): Promise<RefreshResult> {
  const { config, dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  const release = acquireLock(dataDir);
  const warehouse = await openWarehouse(dataDir, capturedEndpoints(config));
  const deps: RefreshDeps = { config, store: new FileObjectStore(dataDir), dialect: 'duckdb', engine: connectionEngine(warehouse.connection), projectRoot: options.projectRoot };
  const pool = new UnpackPool((task) => unpackTask(deps, task), { config, dataDir }, options.unpackThreads);
  try {
    const runSql = async (input: JSONValue) => {
      const { QueryString } = input as { QueryString: string };
      await warehouse.connection.run(athenaToLocalSql(QueryString));
      return {};
    };
    const bound: Record<string, (input: JSONValue) => Promise<JSONValue>> = {
      Plan: async (input) => (await planRefresh(deps, input as { endpoints?: string[] })) as unknown as JSONValue,
      UnpackTask: async (input) => (await pool.run(input as unknown as UnpackTask)) as unknown as JSONValue,
      PrepareCommit: async (input) => (await prepareCommit(deps, input as unknown as EndpointRun)) as unknown as JSONValue,
      ComputeMetrics: async (input) => (await computeEndpointMetrics(deps, input as unknown as EndpointRun)) as unknown as JSONValue,
      FinishEndpoint: async (input) => (await finishEndpoint(deps, input as unknown as EndpointRun)) as unknown as JSONValue,
      RecordFailure: async (input) => (await recordFailure(deps, input as { run_id?: string })) as unknown as JSONValue,
      [SQL_STEP]: runSql,
      [METRICS_SQL_STEP]: runSql,
      ...options.stepOverrides,
    };
    const machine = new StateMachine(localRefreshDefinition(config) as never, { validationOptions: { checkArn: false } });
    const noPause = Object.fromEntries([...REFRESH_STEPS, SQL_STEP, METRICS_SQL_STEP].map((s) => [s, 0]));
    const execution = machine.run({ endpoints: options.endpoints?.length ? [...options.endpoints] : null }, { overrides: { taskResourceLocalHandlers: bound, retryIntervalOverrides: noPause } });
    const progress = (async () => {
      for await (const event of execution.eventLogs) {
        if (!options.onProgress || !('state' in event)) continue;
        const kind = event.type === 'StateEntered' ? 'entered' : event.type === 'StateExited' ? 'exited' : event.type === 'StateFailed' ? 'failed' : event.type === 'StateRetried' ? 'retried' : undefined;
        if (kind) options.onProgress({ state: event.state.name, kind, detail: 'Error' in event ? String(event.Error) : undefined });
      }
    })();
    let output: JSONValue;
    try {
      output = await execution.result;
    } catch (error) {
      const failure = (error as { cause?: { name?: string; message?: string } }).cause;
      throw new RefreshFailedError(`Refresh failed: ${failure?.message ?? (error as Error).message}`, { cause: error });
    } finally {
      await progress.catch(() => undefined);
    }
    return output as unknown as RefreshResult;
  } finally {
    await pool.close();
    warehouse.connection.closeSync();
    warehouse.instance.closeSync();
    release();
  }
}
