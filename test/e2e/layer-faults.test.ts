/**
 * A throwing step injected at each layer a request crosses: the local server's event
 * conversion, the model backend and its factory, the backend's answer, the error handler, the
 * capture sink, and the server's own pages and answer writing. Each request gets a 500 (502
 * for a backend's unusable answer) in MLflow's error shape with its request id and nothing
 * internal, is captured with the status its caller got, and the server keeps serving.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { type LocalServer, startLocalServer } from '../../lambdas/adapters/local/http-server.js';
import { createBackendFactory } from '../../lambdas/backends/factory.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import type { BackendFactory, BackendResponse, CaptureSink } from '../../lambdas/core/ports.js';
import { createScoringHandler } from '../../lambdas/scoring/handler.js';
import { configWith } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';
import { type RawResponse, rawRequest } from '../helpers/raw-http.js';

const FAULT = vi.hoisted(() => ({ agent: 'fault-injection/1.0', header: 'x-inject-fault' }));

// The local server's event conversion throws for one user agent.
vi.mock('../../lambdas/shared/proxy-event.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lambdas/shared/proxy-event.js')>();
  return {
    ...real,
    eventIdentity: (known: Parameters<typeof real.eventIdentity>[0]) => {
      if (known.userAgent === FAULT.agent) throw new TypeError('injected: the event conversion failed');
      return real.eventIdentity(known);
    },
  };
});

// The error handler itself throws when the request carries the fault header.
vi.mock('../../lambdas/scoring/middleware.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lambdas/scoring/middleware.js')>();
  return {
    ...real,
    mlflowErrors: () => {
      const inner = real.mlflowErrors();
      return {
        ...inner,
        onError: (request: Parameters<NonNullable<typeof inner.onError>>[0]) => {
          if (request.event.headers?.[FAULT.header] === 'error-handler') throw new RangeError('injected: the error handler failed');
          return inner.onError?.(request);
        },
      };
    },
  };
});

/** What the echo backend does when `params.fault` names it. */
const BACKEND_FAULTS: Record<string, () => Promise<BackendResponse> | BackendResponse> = {
  'type-error': () => {
    throw new TypeError("injected: Cannot read properties of undefined (reading 'x')");
  },
  'null-prototype': () => {
    throw Object.create(null);
  },
  'hostile-proxy': () => {
    throw new Proxy({}, { getPrototypeOf: () => { throw new Error('injected: a trap'); }, get: () => { throw new Error('injected: a trap'); } });
  },
  rejects: () => Promise.reject(new Error('injected: a rejection')),
  'status-text': () => ({ status: 'abc' as unknown as number, body: '{}', contentType: 'application/json' }),
  'status-zero': () => ({ status: 0, body: '{}', contentType: 'application/json' }),
  'body-object': () => ({ status: 200, body: { a: 1 } as unknown as string, contentType: 'application/json' }),
  'content-type-newline': () => ({ status: 200, body: '{}', contentType: 'application/json\r\nset-cookie: x=1' }),
};

const config = configWith((c) => {
  // Version 3 of the classifier gets a backend the factory cannot build.
  c.models.find((m: { name: string }) => m.name === 'iris-classifier').versions[2].backend = { type: 'http', url: 'http://factory-fault.invalid', timeout_ms: 1000 };
});

const real = createBackendFactory();
const backends: BackendFactory = (backend) => {
  if (backend.type === 'http') throw new TypeError('injected: the backend factory failed');
  const inner = real(backend);
  return {
    invoke: (request) => {
      const fault = request.parsed.kind === 'standard' ? (request.parsed.json.params as { fault?: string } | undefined)?.fault : undefined;
      return fault ? (BACKEND_FAULTS[fault] as () => Promise<BackendResponse>)() : inner.invoke(request);
    },
  };
};

let dir: string;
let stream: LocalDeliveryStream;
let server: LocalServer;
/** The log lines written while the tests run (kept off the console). */
const logged: Record<string, unknown>[] = [];

beforeAll(async () => {
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) logged.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  }) as typeof process.stderr.write);
  dir = await mkdtemp(join(tmpdir(), 'it-layer-faults-'));
  stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  // The sink throws synchronously (not a rejected promise) for one client request id.
  const sink: CaptureSink = {
    put: (records: readonly CaptureRecord[]) => {
      if (records[0]?.client_request_id === 'sink-throws') throw new TypeError('injected: the sink failed');
      return stream.put(records);
    },
    status: (endpoint) => stream.status(endpoint),
  };
  const handler = createScoringHandler({ config, sink, backends, version: 't' });
  server = await startLocalServer({ handler, host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20 });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await server?.close();
  await stream?.close();
  await rm(dir, { recursive: true, force: true });
});

const INTERNALS = /\n\s+at |node_modules|\/lambdas\/|\.[jt]s:\d|injected|TypeError|RangeError/;
const ECHO = '/model/echo/1/invocations';
const echoWith = (fault: string) => JSON.stringify({ inputs: [1], params: { fault } });

interface Case {
  readonly name: string;
  readonly path: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly table: string;
}

const CASES: readonly Case[] = [
  { name: 'the server’s event conversion', path: '/serving-endpoints/iris/invocations', body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }), headers: { 'user-agent': FAULT.agent }, status: 500, table: 'iris_payload' },
  ...Object.keys(BACKEND_FAULTS).map((fault) => ({ name: `the backend: ${fault}`, path: ECHO, body: echoWith(fault), status: fault.startsWith('status') || fault.startsWith('body') || fault.startsWith('content') ? 502 : 500, table: 'echo_payload' })),
  { name: 'the backend factory', path: '/model/iris-classifier/3/invocations', body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }), status: 500, table: 'iris_classifier_payload' },
  { name: 'the error handler', path: ECHO, body: echoWith('type-error'), headers: { [FAULT.header]: 'error-handler' }, status: 500, table: 'echo_payload' },
];

describe('a throwing step at each layer', () => {
  const answers = new Map<string, RawResponse>();

  it.each(CASES.map((c) => [c.name, c] as const))('%s: a 500 with the request id, nothing internal, and the server keeps serving', async (_, c) => {
    const answer = await rawRequest(server.url, { path: c.path, headers: c.headers, body: c.body });
    answers.set(c.name, answer);
    expect(answer.status).toBe(c.status);
    const requestId = answer.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(answer.body)).toEqual({ error_code: c.status === 502 ? 'BAD_GATEWAY' : 'INTERNAL_ERROR', message: expect.any(String) });
    if (c.status === 500) expect(JSON.parse(answer.body).message).toBe(`Internal error. Request id: ${requestId}.`);
    expect(answer.body).not.toMatch(INTERNALS);
    // What the caller is not told is in the log, with the stack.
    const line = logged.find((l) => l.requestId === requestId && l.level === 'error');
    expect((line?.error as { stack?: string } | undefined)?.stack ?? '', 'logged with its stack').toMatch(/\n\s+at /);
    expect((await rawRequest(server.url, { method: 'GET', path: '/ping' })).status).toBe(200);
    const ok = await rawRequest(server.url, { path: ECHO, body: JSON.stringify({ inputs: [7] }) });
    expect(ok.status).toBe(200);
  });

  it('captures each of them with the status its caller got', async () => {
    await stream.flush();
    for (const c of CASES) {
      const id = answers.get(c.name)?.headers['x-request-id'];
      const rows = await queryRows(dir, config, `SELECT status_code FROM ${c.table} WHERE request_id = '${id}'`);
      expect(rows.map((r) => Number(r.status_code)), c.name).toEqual([c.status]);
    }
  });

  it('a sink that throws instead of rejecting leaves the answer as it was', async () => {
    const answer = await rawRequest(server.url, { path: ECHO, body: JSON.stringify({ client_request_id: 'sink-throws', inputs: [3] }) });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ predictions: [3] });
    expect((await rawRequest(server.url, { method: 'GET', path: '/ping' })).status).toBe(200);
  });
});

describe('the local server around a handler and pages that fail', () => {
  let bare: LocalServer;
  const results: Record<string, () => unknown> = {
    '/sync-throw': () => {
      throw new TypeError('injected: thrown before any promise');
    },
    '/not-a-promise': () => ({ statusCode: 200, body: '{}' }),
    '/status-text': async () => ({ statusCode: 'abc', body: '{}' }),
    '/header-newline': async () => ({ statusCode: 200, headers: { 'x-a': 'b\r\nset-cookie: c=d' }, body: '{}' }),
    '/body-object': async () => ({ statusCode: 200, body: { a: 1 } }),
  };

  beforeAll(async () => {
    bare = await startLocalServer({
      handler: ((event: { path: string }) => results[event.path]?.() ?? Promise.resolve({ statusCode: 200, body: 'ok' })) as never,
      routes: (_method, url) => {
        if (url.pathname === '/dashboard/sync') throw new TypeError('injected: the page failed');
        if (url.pathname === '/dashboard/async') return Promise.reject(new RangeError('injected: the page failed later'));
        return undefined;
      },
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
    });
  });

  afterAll(async () => {
    await bare?.close();
  });

  it.each([...Object.keys(results), '/dashboard/sync', '/dashboard/async'])('%s: answered 500 with a request id, counted, and the server keeps serving', async (path) => {
    const before = bare.faults();
    const answer = await rawRequest(bare.url, { method: 'GET', path });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ error_code: 'INTERNAL_ERROR', message: `Internal error. Request id: ${answer.headers['x-request-id']}.` });
    expect(answer.body).not.toMatch(INTERNALS);
    expect(bare.faults()).toBe(before + 1);
    expect(logged.some((l) => l.requestId === answer.headers['x-request-id'] && /\n\s+at /.test(String((l.error as { stack?: string }).stack)))).toBe(true);
    expect((await rawRequest(bare.url, { method: 'GET', path: '/fine' })).body).toBe('ok');
  });
});
