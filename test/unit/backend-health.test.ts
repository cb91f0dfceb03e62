import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaBackend } from '../../lambdas/adapters/aws/lambda-backend.js';
import { BuiltinBackend } from '../../lambdas/backends/builtin.js';
import { BackendHealth, entityKey } from '../../lambdas/core/backend-health.js';
import type { Backend } from '../../lambdas/core/config/index.js';
import type { BackendProbe, ModelBackend } from '../../lambdas/core/ports.js';

const HTTP: Backend = { type: 'http', url: 'https://user:secret@model.internal:5000/base/', timeout_ms: 1000 };
const SAGEMAKER: Backend = { type: 'sagemaker', endpoint_name: 'iris-endpoint', timeout_ms: 1000 };
const KEY = entityKey('iris', 'iris-2');

/** A backend without a probe (as SageMaker's), or with the given one; counts the probes run. */
function backend(probe?: (signal: AbortSignal) => Promise<BackendProbe>) {
  const counted = { probes: 0 };
  const b: ModelBackend = {
    invoke: () => Promise.reject(new Error('unused')),
    ...(probe ? { probe: (signal: AbortSignal) => (counted.probes++, probe(signal)) } : {}),
  };
  return Object.assign(counted, { make: () => b });
}

/** A clock the test moves. */
function clock(start = Date.UTC(2026, 0, 1)) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('Backend health: calls', () => {
  it('fails an entity after 3 consecutive backend failures with no success since, naming the cause and the fix', async () => {
    // Prepare
    const health = new BackendHealth();
    const { make } = backend();
    // Act
    health.recordFailure(KEY, 'SageMaker endpoint iris-endpoint is not ready: ModelNotReadyException');
    health.recordFailure(KEY, 'SageMaker endpoint iris-endpoint is not ready: ModelNotReadyException');
    const afterTwo = await health.deployment(KEY, SAGEMAKER, make);
    health.recordFailure(KEY, 'SageMaker endpoint iris-endpoint is not ready: ModelNotReadyException');
    const afterThree = await health.deployment(KEY, SAGEMAKER, make);
    // Assess
    expect(afterTwo).toEqual({ deployment: 'DEPLOYMENT_READY' });
    expect(afterThree.deployment).toBe('DEPLOYMENT_FAILED');
    expect(afterThree.deployment_state_message).toMatch(/^The SageMaker endpoint iris-endpoint failed on the last 3 calls \(SageMaker endpoint iris-endpoint is not ready; /);
    expect(afterThree.deployment_state_message).toContain('fix backend.endpoint_name in the configuration');
  });

  it('is ready again after one success, and counts failures per entity', async () => {
    const health = new BackendHealth();
    const { make } = backend();
    for (let i = 0; i < 3; i++) health.recordFailure(KEY, 'Model backend did not answer within 1000 ms.');
    health.recordSuccess(KEY);
    health.recordFailure(KEY, 'Model backend did not answer within 1000 ms.');
    for (let i = 0; i < 5; i++) health.recordFailure(entityKey('iris', 'iris-3'), 'Model backend did not answer within 1000 ms.');
    expect(await health.deployment(KEY, SAGEMAKER, make)).toEqual({ deployment: 'DEPLOYMENT_READY' });
    expect((await health.deployment(entityKey('iris', 'iris-3'), SAGEMAKER, make)).deployment).toBe('DEPLOYMENT_FAILED');
  });

  it("never quotes what the backend answered (a stack trace may name its files), nor the URL's credentials", async () => {
    const health = new BackendHealth();
    for (let i = 0; i < 3; i++) health.recordFailure(KEY, 'Model backend answered 500: Traceback (most recent call last):\n  File "/opt/model/predict.py", line 3');
    const { deployment_state_message: message } = await health.deployment(KEY, HTTP, backend().make);
    expect(message).toMatch(/^The backend https:\/\/model\.internal:5000\/base\/invocations failed on the last 3 calls \(Model backend answered 500; successes: none since this process started\): start the model server or fix backend\.url in the configuration\.$/);
  });
});

describe('Backend health: probes', () => {
  it('reports a probe that is not ready with its message, and reuses the result for the TTL', async () => {
    // Prepare
    const c = clock();
    const health = new BackendHealth({ probeTtlMs: 15_000, now: c.now });
    let ready = true;
    const probed = backend(async () => ({ ready, message: ready ? 'fine' : 'The backend x could not be reached: start it.' }));
    // Act
    const first = await health.deployment(KEY, HTTP, probed.make);
    ready = false;
    c.t += 14_999;
    const cached = await health.deployment(KEY, HTTP, probed.make);
    c.t += 1;
    const fresh = await health.deployment(KEY, HTTP, probed.make);
    // Assess
    expect([first, cached]).toEqual([{ deployment: 'DEPLOYMENT_READY' }, { deployment: 'DEPLOYMENT_READY' }]);
    expect(fresh).toEqual({ deployment: 'DEPLOYMENT_FAILED', deployment_state_message: 'The backend x could not be reached: start it.' });
    expect(probed.probes).toBe(2);
  });

  it('shares one probe between concurrent reads', async () => {
    const health = new BackendHealth();
    const probed = backend(() => new Promise((r) => setTimeout(() => r({ ready: true, message: 'ok' }), 20)));
    await Promise.all(Array.from({ length: 5 }, () => health.deployment(KEY, HTTP, probed.make)));
    expect(probed.probes).toBe(1);
  });

  it('counts a probe that throws, hangs past its timeout, or whose backend cannot be built as not ready', async () => {
    const health = new BackendHealth({ probeTimeoutMs: 50 });
    const throwing = backend(async () => {
      throw new TypeError('probe bug');
    });
    const hanging = backend(() => new Promise(() => undefined));
    const unbuildable = () => {
      throw new RangeError('bad backend');
    };
    const states = await Promise.all([
      health.deployment('a/x', HTTP, throwing.make),
      health.deployment('b/x', HTTP, hanging.make),
      health.deployment('c/x', HTTP, unbuildable),
    ]);
    expect(states.map((s) => s.deployment)).toEqual(['DEPLOYMENT_FAILED', 'DEPLOYMENT_FAILED', 'DEPLOYMENT_FAILED']);
    expect(states[0]?.deployment_state_message).toMatch(/could not be checked \(TypeError\): start the model server/);
    expect(states[1]?.deployment_state_message).toMatch(/did not answer its readiness check within 50 ms/);
    expect(states[2]?.deployment_state_message).toMatch(/could not be set up \(RangeError\)/);
  });

  it('lets the newer evidence win: failed calls after a ready probe fail the entity, a ready probe after them clears it', async () => {
    const c = clock();
    const health = new BackendHealth({ probeTtlMs: 1000, now: c.now });
    const probed = backend(async () => ({ ready: true, message: 'ok' }));
    expect((await health.deployment(KEY, HTTP, probed.make)).deployment).toBe('DEPLOYMENT_READY');
    c.t += 10;
    for (let i = 0; i < 3; i++) health.recordFailure(KEY, 'Model backend answered 503: busy');
    expect((await health.deployment(KEY, HTTP, probed.make)).deployment).toBe('DEPLOYMENT_FAILED');
    c.t += 1000;
    expect((await health.deployment(KEY, HTTP, probed.make)).deployment).toBe('DEPLOYMENT_READY');
  });
});

describe('Backend probe: builtin', () => {
  it('is always ready', async () => {
    expect(await new BuiltinBackend('iris').probe()).toMatchObject({ ready: true });
  });
});

describe('Backend probe: Lambda function', () => {
  const lambda = mockClient(LambdaClient);
  const probe = () => new LambdaBackend(new LambdaClient({ region: 'eu-west-1' }), 'iris-v1:live', 1000).probe(new AbortController().signal);
  beforeEach(() => lambda.reset());

  it('is ready when the function is Active and its last update did not fail', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves({ State: 'Active', LastUpdateStatus: 'Successful' });
    expect(await probe()).toMatchObject({ ready: true });
    expect(lambda).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: 'iris-v1:live' });
  });

  it.each([
    [{ State: 'Pending' as const, StateReasonCode: 'Creating' as const }, /is Pending \(Creating\): wait until it is Active/],
    [{ State: 'Failed' as const, StateReasonCode: 'InvalidImage' as const, StateReason: 'image not found' }, /is Failed \(InvalidImage: image not found\): fix the function and deploy it again/],
    [{ State: 'Active' as const, LastUpdateStatus: 'Failed' as const, LastUpdateStatusReasonCode: 'EniLimitExceeded' as const }, /last update failed \(EniLimitExceeded\)/],
  ])('is not ready for %j', async (configuration, message) => {
    lambda.on(GetFunctionConfigurationCommand).resolves(configuration);
    const result = await probe();
    expect(result.ready).toBe(false);
    expect(result.message).toMatch(message);
  });

  it('is not ready when the function cannot be read, with the fix', async () => {
    const error = new Error('Function not found');
    error.name = 'ResourceNotFoundException';
    lambda.on(GetFunctionConfigurationCommand).rejects(error);
    expect(await probe()).toEqual({
      ready: false,
      message: 'The Lambda backend iris-v1:live could not be read (ResourceNotFoundException): deploy the function or fix backend.function_name in the configuration.',
    });
  });
});
