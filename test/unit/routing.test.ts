import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotFoundError } from '../../lambdas/core/errors.js';
import { parseRoute } from '../../lambdas/core/routes.js';
import { Router } from '../../lambdas/core/routing.js';
import { demoConfig } from '../helpers/config.js';

const router = new Router(demoConfig());

describe('Routes', () => {
  it('recognises every route of the proxy', () => {
    expect(parseRoute('POST', '/serving-endpoints/iris/invocations')).toEqual({ kind: 'invoke-endpoint', endpoint: 'iris' });
    expect(parseRoute('POST', '/serving-endpoints/iris/served-models/iris-classifier-3/invocations')).toEqual({
      kind: 'invoke-endpoint',
      endpoint: 'iris',
      served: 'iris-classifier-3',
    });
    expect(parseRoute('POST', '/model/iris-classifier/Production/invocations')).toEqual({ kind: 'invoke-model', model: 'iris-classifier', ref: 'Production' });
    expect(parseRoute('GET', '/api/2.0/serving-endpoints/iris')).toEqual({ kind: 'get-endpoint', name: 'iris' });
    expect(parseRoute('GET', '/ping')).toEqual({ kind: 'ping' });
    expect(parseRoute('GET', '/serving-endpoints/iris/invocations')).toEqual({ kind: 'method-not-allowed', allowed: 'POST', invocation: { kind: 'invoke-endpoint', endpoint: 'iris' } });
    expect(parseRoute('GET', '/../../etc/passwd')).toEqual({ kind: 'not-found' });
  });
});

describe('Classic model route', () => {
  it('resolves stages case-insensitively to the highest version in the stage', () => {
    expect(router.chooseForModel('iris-classifier', 'production').modelVersion).toBe('2');
    expect(router.chooseForModel('iris-classifier', 'STAGING').modelVersion).toBe('3');
  });

  it('resolves versions and aliases', () => {
    expect(router.chooseForModel('iris-classifier', '3').servedName).toBe('iris-classifier-3');
    expect(router.chooseForModel('iris-classifier', '@champion').modelVersion).toBe('2');
  });

  it('does not serve archived or unknown versions (404)', () => {
    expect(() => router.chooseForModel('iris-classifier', '1')).toThrow(NotFoundError);
    expect(() => router.chooseForModel('iris-classifier', 'Archived')).toThrow(NotFoundError);
    expect(() => router.chooseForModel('iris-classifier', '42')).toThrow(NotFoundError);
    expect(() => router.chooseForModel('iris-classifier', '@nobody')).toThrow(NotFoundError);
    expect(() => router.chooseForModel('nope', '1')).toThrow(NotFoundError);
  });

  it('rejects a stage MLflow does not know with INVALID_PARAMETER_VALUE', () => {
    expect(() => router.chooseForModel('iris-classifier', 'Prod')).toThrow(InvalidRequestError);
  });
});

describe('Serving endpoints', () => {
  it('splits traffic by the configured percentages, deterministically per request id', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const name = router.chooseForEndpoint('iris', `req-${i}`).servedName;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect((counts.get('iris-classifier-3') ?? 0) / 10_000).toBeGreaterThan(0.08);
    expect((counts.get('iris-classifier-3') ?? 0) / 10_000).toBeLessThan(0.12);
    expect(router.chooseForEndpoint('iris', 'same').servedName).toBe(router.chooseForEndpoint('iris', 'same').servedName);
  });

  it('routes to a named served entity and gives it a stable id', () => {
    const a = router.chooseForEndpoint('iris', 'x', 'iris-classifier-3');
    expect(a.modelVersion).toBe('3');
    expect(router.chooseForEndpoint('iris', 'y', 'iris-classifier-3').servedEntityId).toBe(a.servedEntityId);
    expect(() => router.chooseForEndpoint('iris', 'x', 'other')).toThrow(NotFoundError);
  });

  it('captures unknown endpoints under the unrouted table', () => {
    expect(router.captureTarget({ kind: 'invoke-endpoint', endpoint: 'nope' }).endpoint).toBe('unrouted');
    expect(router.captureTarget({ kind: 'invoke-model', model: 'iris-classifier' }).endpoint).toBe('iris-classifier');
  });
});
