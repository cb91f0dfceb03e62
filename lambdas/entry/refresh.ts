import middy from '@middy/core';
import { bindSteps, stepsByHandler } from '../workflow/registry.js';
import { awsRefreshDependencies } from '../wiring/aws.js';

/**
 * The refresh workflow's Lambda entry points, one export per step of the registry
 * (`lambdas/core/refresh-steps.ts` names them; the same bound steps run locally). The
 * environment is read once at cold start; each input is parsed with its step's schema;
 * errors propagate to Step Functions, whose retry and catch decide what happens next.
 */
const steps = stepsByHandler(bindSteps(awsRefreshDependencies()));

export const { plan, unpack, prepare, metrics, finish, endpointFailure, close, failure } = Object.fromEntries(Object.entries(steps).map(([name, run]) => [name, middy(run)])) as {
  readonly [K in keyof typeof steps]: ReturnType<typeof middy<unknown, unknown>>;
};
