import { REFRESH_STEPS, REFRESH_STEP_SPECS, type RefreshHandlerName, type RefreshStep, type RefreshStepInput, parseStepInput } from '../core/refresh-steps.js';
import { computeEndpointMetrics } from './metrics-step.js';
import { closeRun, endpointFailed, recordFailure } from './run-outcome.js';
import { planRefresh } from './plan.js';
import { type RefreshDeps, finishEndpoint, prepareCommit, unpackTask } from './steps.js';

/** The function that runs a step, given the environment's dependencies and its parsed input. */
export type StepFunction<S extends RefreshStep> = (deps: RefreshDeps, input: RefreshStepInput<S>) => Promise<unknown>;

/**
 * The function of each step of `lambdas/core/refresh-steps.ts`. The deployed Lambdas, their
 * entry point and the local runner all bind the steps through this table.
 */
export const STEP_FUNCTIONS: { readonly [S in RefreshStep]: StepFunction<S> } = {
  Plan: planRefresh,
  UnpackTask: unpackTask,
  PrepareCommit: prepareCommit,
  ComputeMetrics: computeEndpointMetrics,
  FinishEndpoint: finishEndpoint,
  EndpointFailed: endpointFailed,
  CloseRun: closeRun,
  RecordFailure: recordFailure,
};

/** A step bound to its dependencies: takes the state's input as it comes, parses it, runs the step. */
export type BoundStep = (input: unknown) => Promise<unknown>;

/**
 * Every step bound to `deps`, by state name; `overrides` replace some (the local runner runs
 * unpack tasks on a pool of threads). Inputs are parsed with the step's schema at this edge.
 */
export function bindSteps(deps: RefreshDeps, overrides: { readonly [S in RefreshStep]?: (input: RefreshStepInput<S>) => Promise<unknown> } = {}): Record<RefreshStep, BoundStep> {
  const bind = <S extends RefreshStep>(step: S): BoundStep => {
    const run = overrides[step] ?? ((input: RefreshStepInput<S>) => STEP_FUNCTIONS[step](deps, input));
    return async (input) => run(parseStepInput(step, input));
  };
  return Object.fromEntries(REFRESH_STEPS.map((s) => [s, bind(s)])) as Record<RefreshStep, BoundStep>;
}

/** The bound steps by the name their Lambda function exports them under (`lambdas/entry/refresh.ts`). */
export function stepsByHandler(steps: Record<RefreshStep, BoundStep>): Record<RefreshHandlerName, BoundStep> {
  return Object.fromEntries(REFRESH_STEPS.map((s) => [REFRESH_STEP_SPECS[s].handler, steps[s]])) as Record<RefreshHandlerName, BoundStep>;
}
