/** The local server's pure parts: who the requester is, how slowly a body may arrive, and what HTTP can carry. */
import { describe, expect, it } from 'vitest';
import { TOKEN_REQUESTER, authenticate, basicRequester, managementRefusal } from '../../lambdas/adapters/local/local-auth.js';
import { isManagementCall } from '../../lambdas/core/routes.js';
import { DEFAULT_BODY_PACE, bodyDeadline } from '../../lambdas/adapters/local/request-body.js';
import { backendAnswerProblem, proxyResultProblem } from '../../lambdas/scoring/response-guard.js';

const TOKEN = 'tok-0123456789abcdef';
const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

describe('the requester of a local caller', () => {
  it('names a plain user, and never the secret', () => {
    expect(authenticate(basic('alice', TOKEN), TOKEN)).toBe('local:alice');
    expect(authenticate(`Bearer ${TOKEN}`, TOKEN)).toBe(TOKEN_REQUESTER);
    for (const user of [TOKEN, `x${TOKEN}`, TOKEN.slice(2, 12), '', 'a b', 'é', 'x'.repeat(65)]) {
      const requester = authenticate(basic(user, TOKEN), TOKEN);
      expect(requester === TOKEN_REQUESTER || requester === `local:${user}`, user).toBe(true);
      expect(requester?.includes(TOKEN.slice(2, 12)), user).toBe(false);
    }
    expect(basicRequester('token', TOKEN)).toBe(TOKEN_REQUESTER);
  });

  it('refuses a wrong secret in either form', () => {
    expect(authenticate(basic('alice', `${TOKEN}x`), TOKEN)).toBeNull();
    expect(authenticate(`Bearer ${TOKEN.slice(1)}`, TOKEN)).toBeNull();
    expect(authenticate(undefined, TOKEN)).toBeNull();
  });
});

describe('management calls on the local server', () => {
  const req = (authorization: string | undefined, localAddress: string) => ({ headers: { authorization }, socket: { localAddress } });

  it('take the management token, never the scoring one, when it is set', () => {
    const options = { managementToken: 'mgmt-secret-1' };
    expect(managementRefusal(req('Bearer mgmt-secret-1', '10.0.0.5'), options)).toBeNull();
    expect(managementRefusal(req('Bearer scoring-token', '127.0.0.1'), options)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(managementRefusal(req(undefined, '127.0.0.1'), options)?.message).toContain('INFERENCE_TABLES_MANAGEMENT_TOKEN');
  });

  it('are answered on loopback only without a management token', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(managementRefusal(req(undefined, address), {})).toBeNull();
    expect(managementRefusal(req('Bearer anything', '192.168.1.20'), {})).toMatchObject({ status: 403, code: 'PERMISSION_DENIED' });
    // With a scoring token and no management token: loopback and the scoring token.
    expect(managementRefusal(req(undefined, '127.0.0.1'), { token: 'score-1' })).toMatchObject({ status: 401 });
    expect(managementRefusal(req('Bearer score-1', '127.0.0.1'), { token: 'score-1' })).toBeNull();
    expect(managementRefusal(req('Bearer score-1', '10.1.2.3'), { token: 'score-1' })).toMatchObject({ status: 403 });
  });

  it('are the registry and endpoint-change routes, decided as the handler routes them', () => {
    expect(isManagementCall('PUT', '/api/2.0/serving-endpoints/iris/config')).toBe(true);
    expect(isManagementCall('DELETE', '/api/2.0/mlflow/registered-models/alias')).toBe(true);
    expect(isManagementCall('POST', '/api/2.0/mlflow/registered-models/alias')).toBe(true);
    expect(isManagementCall('GET', '/api/2.0/serving-endpoints/iris')).toBe(false);
    expect(isManagementCall('POST', '/serving-endpoints/iris/invocations')).toBe(false);
  });
});

describe('the pace of a request body', () => {
  const pace = { graceMs: 10_000, minBytesPerSecond: 1000, deadlineMs: 60_000 };

  it('allows the grace period, then a second per minBytesPerSecond bytes received, never past the deadline', () => {
    expect(bodyDeadline(pace, 0)).toBe(10_000);
    expect(bodyDeadline(pace, 5)).toBe(10_005);
    expect(bodyDeadline(pace, 20_000)).toBe(30_000);
    expect(bodyDeadline(pace, 10_000_000)).toBe(60_000);
  });

  it('defaults to the configuration schema’s defaults', () => {
    expect(DEFAULT_BODY_PACE).toEqual({ graceMs: 10_000, minBytesPerSecond: 1024, deadlineMs: 60_000 });
  });
});

describe('what HTTP can carry', () => {
  it('accepts a backend answer with a status from 200 to 499, a text body and a header-safe content type', () => {
    expect(backendAnswerProblem({ status: 200, body: '{}', contentType: 'application/json' })).toBeNull();
    expect(backendAnswerProblem({ status: 422, body: '', contentType: 'text/plain; charset=utf-8' })).toBeNull();
  });

  it.each([
    [{ status: 'abc', body: '{}', contentType: 'application/json' }, "status 'abc'"],
    [{ status: 99, body: '{}', contentType: 'application/json' }, 'status 99'],
    [{ status: 200.5, body: '{}', contentType: 'application/json' }, 'status 200.5'],
    [{ status: 200, body: { a: 1 }, contentType: 'application/json' }, 'a body of type object'],
    [{ status: 200, body: '{}', contentType: 'a\r\nb: c' }, "content type 'a\r\nb: c'"],
    [{ status: 200, body: '{}', contentType: '' }, "content type ''"],
    [null, 'an answer of type null'],
  ])('names what is wrong with %j', (answer, problem) => {
    expect(backendAnswerProblem(answer as never)).toBe(problem);
  });

  it('checks a proxy result’s status, body and headers', () => {
    expect(proxyResultProblem({ statusCode: 200, headers: { 'content-type': 'application/json', 'x-n': 1 }, body: '{}' })).toBeNull();
    expect(proxyResultProblem({ statusCode: 600, body: '' })).toBe('status 600');
    expect(proxyResultProblem({ statusCode: 200, headers: { 'bad name': 'x' }, body: '' })).toBe("header name 'bad name'");
    expect(proxyResultProblem({ statusCode: 200, headers: { a: 'x\ny' }, body: '' })).toBe('header a holding characters a header cannot hold');
    expect(proxyResultProblem({ statusCode: 200, headers: { a: {} as never }, body: '' })).toBe('header a of type object');
    expect(proxyResultProblem(undefined)).toBe('a result of type undefined');
  });
});
