import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileObjectStore } from '../adapters/local/file-object-store.js';
import { PidLock } from '../adapters/local/pid-lock.js';
import { connectionEngine } from '../adapters/local/query-engine.js';
import { type StateProgress, StateMachineRunError, runStateMachine } from '../adapters/local/state-machine.js';
import { UnpackPool } from '../adapters/local/unpack-pool.js';
import { openWarehouse } from '../adapters/local/warehouse.js';
import type { Config } from '../core/config/index.js';
import { METRICS_SQL_STEP, RefreshFailedError, type RefreshDefinitionSource, type RefreshStep, SQL_STEP } from '../core/refresh-steps.js';
import { bindSteps } from '../workflow/registry.js';
import { type EndpointReport, type RefreshDeps, capturedEndpoints } from '../workflow/steps.js';

/** Progress of a local run, for the command line. */
export type RefreshProgress = StateProgress;

/** What a run did. */
export interface RefreshResult {
  readonly run_id: string;
  readonly started_at: string;
  readonly reports: EndpointReport[];
}

/** A task state of the definition: a registry step or one of the two SQL states. */
type TaskState = RefreshStep | typeof SQL_STEP | typeof METRICS_SQL_STEP;

/** Options of a local run. */
export interface LocalRefreshOptions {
  readonly config: Config;
  readonly dataDir: string;
  /** The synthesized definition the run executes (`localRefreshDefinition` of `lib/refresh-definition.ts`). */
  readonly definition: RefreshDefinitionSource;
  readonly endpoints?: readonly string[];
  readonly onProgress?: (p: RefreshProgress) => void;
  /** Overrides a task state, to inject a failure in tests; `original` runs the state as it would have run. */
  readonly stepOverrides?: Partial<Record<TaskState, (input: unknown, original: (input: unknown) => Promise<unknown>) => Promise<unknown>>>;
  /** Folder baseline files are resolved from; default: the working directory. */
  readonly projectRoot?: string;
  /** Unpack tasks run at once, each on its own thread; default: the machine's cores. */
  readonly unpackThreads?: number;
}

/** The refresh steps' dependencies on one machine: the data folder as the object store, DuckDB's dialect. */
export function localRefreshDependencies(config: Config, dataDir: string, extra: Partial<RefreshDeps> = {}): RefreshDeps {
  return { config, store: new FileObjectStore(dataDir), dialect: 'duckdb', ...extra };
}

/**
 * Runs the synthesized refresh definition on this machine: its Lambda states bound to the
 * same step functions the deployed Lambdas export (the registry of `workflow/registry.ts`),
 * over the data folder; its Athena states run their statements on the local warehouse; unpack
 * tasks run on every core. One run at a time per data folder.
 * @throws RefreshFailedError when a run holds the folder, or the run fails (recorded; no watermark moved)
 */
export async function runLocalRefresh(options: LocalRefreshOptions): Promise<RefreshResult> {
  const { config, dataDir } = options;
  await mkdir(dataDir, { recursive: true });
  const lock = await PidLock.acquire(join(dataDir, '.refresh.lock'), (holder) =>
    new RefreshFailedError(`A refresh is already running (${holder === 'this process' ? 'in this process' : `process ${holder.pid}`}); try again when it ends`),
  );
  try {
    const warehouse = await openWarehouse(dataDir, capturedEndpoints(config), config.refresh.local_engine_mib);
    const deps = localRefreshDependencies(config, dataDir, { engine: connectionEngine(warehouse.connection), projectRoot: options.projectRoot });
    const pool = new UnpackPool((task) => bindSteps(deps).UnpackTask(task) as ReturnType<UnpackPool['run']>, { config, dataDir }, options.unpackThreads);
    try {
      const runSql = async (input: unknown) => {
        const { QueryString } = input as { QueryString: string };
        // The definition's SQL states carry the statements the generators wrote in DuckDB's dialect.
        await warehouse.connection.run(QueryString);
        return {};
      };
      const tasks: Record<string, (input: unknown) => Promise<unknown>> = {
        ...bindSteps(deps, { UnpackTask: (task) => pool.run(task) }),
        [SQL_STEP]: runSql,
        [METRICS_SQL_STEP]: runSql,
      };
      for (const [state, override] of Object.entries(options.stepOverrides ?? {})) {
        const original = tasks[state] as (input: unknown) => Promise<unknown>;
        tasks[state] = (input) => override(input, original);
      }
      const input = { endpoints: options.endpoints?.length ? [...options.endpoints] : null };
      return (await runStateMachine({ definition: options.definition(config), tasks, input, onProgress: options.onProgress })) as RefreshResult;
    } catch (error) {
      if (error instanceof StateMachineRunError) throw new RefreshFailedError(`Refresh failed: ${error.message}`, { cause: error });
      throw error;
    } finally {
      await pool.close();
      warehouse.connection.closeSync();
      warehouse.instance.closeSync();
    }
  } finally {
    await lock.release();
  }
}
