import middy from '@middy/core';
import { awsRefreshDependencies } from '../wiring/aws.js';
import { computeEndpointMetrics } from '../workflow/metrics-step.js';
import { type EndpointRun, type RefreshInput, type UnpackTask, finishEndpoint, planRefresh, prepareCommit, recordFailure, unpackTask } from '../workflow/steps.js';

/**
 * The refresh workflow's Lambda entry points, one per state (the same functions the local
 * runner binds). The environment is read once at cold start; errors propagate to Step
 * Functions, whose retry and catch decide what happens next.
 */
const deps = awsRefreshDependencies();

export const plan = middy((input: RefreshInput) => planRefresh(deps, input));
export const unpack = middy((input: UnpackTask) => unpackTask(deps, input));
export const prepare = middy((input: EndpointRun) => prepareCommit(deps, input));
export const metrics = middy((input: EndpointRun) => computeEndpointMetrics(deps, input));
export const finish = middy((input: EndpointRun) => finishEndpoint(deps, input));
export const failure = middy((input: { run_id?: string; error?: { Error?: string; Cause?: unknown } }) => recordFailure(deps, input));
