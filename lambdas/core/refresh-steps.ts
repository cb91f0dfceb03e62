import { z } from 'zod';
import { fieldPath } from './field-path.js';
import { UserFacingError } from '../shared/errors.js';

/**
 * The refresh workflow's steps, declared once: the state machine's Lambda states (built in
 * `lib/refresh-definition.ts`), the functions that run them (`lib/constructs/refresh-workflow.ts`),
 * the Lambda entry point (`lambdas/entry/refresh.ts`) and the local runner all read this
 * registry, and the handlers are bound to it in `lambdas/workflow/registry.ts`. A step's
 * input is parsed with its schema at the edge, so a state that passes the wrong shape fails
 * there, naming the field, instead of deep in a step.
 */

/** Input of a run: all captured endpoints, or the ones named. */
export const refreshInputSchema = z.looseObject({
  endpoints: z.array(z.string()).nullish(),
});
export type RefreshInput = z.infer<typeof refreshInputSchema>;

/** One unpack task: a few payload files of one endpoint. */
export const unpackTaskSchema = z.looseObject({
  run_id: z.string().min(1),
  endpoint: z.string().min(1),
  task: z.string().min(1),
  manifest: z.string().min(1),
});
export type UnpackTask = z.infer<typeof unpackTaskSchema>;

/** One endpoint of a run; the states after PrepareCommit carry more (`commit`, `metrics`), passed through. */
export const endpointRunSchema = z.looseObject({
  run_id: z.string().min(1),
  started_at: z.string().min(1),
  endpoint: z.string().min(1),
  files: z.number().int().min(0),
  tasks: z.number().int().min(0),
  /** New files left for the next run (the run is bounded by `max_tasks_per_run`). */
  backlog: z.number().int().min(0),
  /** What the metrics step did, once it ran (the state carries it to FinishEndpoint). */
  metrics: z.looseObject({ windows: z.number(), alerts: z.number(), labels_refused: z.number().optional(), labels_unmatched: z.number().optional() }).optional(),
});
export type EndpointRun = z.infer<typeof endpointRunSchema>;

/** What the catch of a failed state hands RecordFailure (`$.error` holds Step Functions' `Error` and `Cause`). */
export const failureInputSchema = z.looseObject({
  run_id: z.string().optional(),
  error: z.looseObject({ Error: z.string().optional(), Cause: z.unknown().optional() }).optional(),
});
export type FailureInput = z.infer<typeof failureInputSchema>;

/** What the catch of an endpoint's commit hands EndpointFailed: the endpoint's run and the error. */
export const endpointFailureInputSchema = endpointRunSchema.extend({
  error: z.looseObject({ Error: z.string().optional(), Cause: z.unknown().optional() }).optional(),
});
export type EndpointFailureInput = z.infer<typeof endpointFailureInputSchema>;

/** The run's state after every endpoint's commit: one report per endpoint, failed or not. */
export const closeRunInputSchema = z.looseObject({
  run_id: z.string().min(1),
  started_at: z.string().min(1),
  reports: z.array(z.looseObject({ endpoint: z.string(), failed: z.boolean().optional(), error: z.string().optional(), cause: z.string().optional() })),
});
export type CloseRunInput = z.infer<typeof closeRunInputSchema>;

/** What each Lambda-backed step is: its handler export, its function's limits, its input. */
export interface RefreshStepSpec<S extends z.ZodType = z.ZodType> {
  /** Export of `lambdas/entry/refresh.ts` the step's function runs. */
  readonly handler: string;
  /** The function's timeout; unpack tasks are bounded in bytes (`refresh.mib_per_task`) to finish well within theirs. */
  readonly timeoutMinutes: number;
  readonly memoryMb: number;
  readonly input: S;
}

/** The Lambda-backed steps, by state name, in the order a run meets them. */
export const REFRESH_STEP_SPECS = {
  Plan: { handler: 'plan', timeoutMinutes: 5, memoryMb: 512, input: refreshInputSchema },
  // Unpacking holds a task's rows in memory.
  UnpackTask: { handler: 'unpack', timeoutMinutes: 10, memoryMb: 2048, input: unpackTaskSchema },
  // The engine's unpack (a query it waits for) and the JavaScript unpack of what the engine leaves.
  PrepareCommit: { handler: 'prepare', timeoutMinutes: 15, memoryMb: 2048, input: endpointRunSchema },
  // One day of windows at a time: the engine's counts, and the rows of continuous columns. A
  // day of 2.1 million predictions with four continuous features peaked at 1.85 GiB locally
  // (`npm run bench`) with its rows read as lists, as the Athena adapter reads them: 3 GB.
  ComputeMetrics: { handler: 'metrics', timeoutMinutes: 15, memoryMb: 3072, input: endpointRunSchema },
  FinishEndpoint: { handler: 'finish', timeoutMinutes: 5, memoryMb: 512, input: endpointRunSchema },
  // An endpoint whose commit failed: recorded, its watermarks unmoved, the others go on.
  EndpointFailed: { handler: 'endpointFailure', timeoutMinutes: 1, memoryMb: 512, input: endpointFailureInputSchema },
  // Whether the run failed anywhere: a run with a failed endpoint fails, after the others committed.
  CloseRun: { handler: 'close', timeoutMinutes: 1, memoryMb: 512, input: closeRunInputSchema },
  RecordFailure: { handler: 'failure', timeoutMinutes: 1, memoryMb: 512, input: failureInputSchema },
} as const satisfies Record<string, RefreshStepSpec>;

export type RefreshStep = keyof typeof REFRESH_STEP_SPECS;
/** The input a step's handler gets, parsed. */
export type RefreshStepInput<S extends RefreshStep> = z.infer<(typeof REFRESH_STEP_SPECS)[S]['input']>;
/** The handler export names, one per step. */
export type RefreshHandlerName = (typeof REFRESH_STEP_SPECS)[RefreshStep]['handler'];

/** The Lambda-backed steps' state names. */
export const REFRESH_STEPS = Object.keys(REFRESH_STEP_SPECS) as RefreshStep[];
/** The Athena step: one SQL statement, waited for (`.sync`). */
export const SQL_STEP = 'RunStatement';
/** The same, for the statements that store an endpoint's metrics. */
export const METRICS_SQL_STEP = 'RunMetricStatement';

/** A refresh run failed (a step, or another run holding the data folder); no watermark moved. */
export class RefreshFailedError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RefreshFailedError';
  }
}

/** The synthesized refresh definition (Amazon States Language) of an environment: what a local run executes. */
export type RefreshDefinitionSource = (config: import('./config/index.js').Config) => Record<string, unknown>;

/** A step got an input its schema refuses: a definition and its functions that disagree. */
export class StepInputError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StepInputError';
  }
}

/**
 * Parses a step's input with its schema.
 * @throws StepInputError naming the step and the first field that does not fit
 */
export function parseStepInput<S extends RefreshStep>(step: S, input: unknown): RefreshStepInput<S> {
  const result = REFRESH_STEP_SPECS[step].input.safeParse(input);
  if (result.success) return result.data as RefreshStepInput<S>;
  const issue = result.error.issues[0];
  throw new StepInputError(`${step} got an input it cannot use: ${fieldPath(issue?.path ?? []) || '(input)'}: ${issue?.message ?? 'invalid'}`, { cause: result.error });
}
