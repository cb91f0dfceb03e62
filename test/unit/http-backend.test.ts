import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBackend } from '../../lambdas/backends/http.js';
import { BackendError, BackendTimeoutError } from '../../lambdas/core/errors.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';

let server: Server;
let base: string;
const seen: { path?: string; type?: string; body?: string } = {};

// A stand-in MLflow scoring server on loopback: its answers depend on the body it gets.
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      Object.assign(seen, { path: req.url, type: req.headers['content-type'], body });
      if (body.includes('"slow"')) return void setTimeout(() => res.end('{}'), 500);
      if (body.includes('"bad"')) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error_code":"BAD_REQUEST","message":"no"}');
      if (body.includes('"crash"')) return void res.writeHead(500).end('Traceback …');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[7]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const call = (body: string, timeoutMs = 2000, url = base) =>
  new HttpBackend(url, timeoutMs).invoke({ body, contentType: 'application/json', parsed: parseScoringRequest('application/json', body), requestId: 'r' });

describe('Backend: MLflow HTTP server', () => {
  it('posts the body to /invocations and answers the result', async () => {
    expect(await call('{"inputs": [1]}')).toEqual({ status: 200, body: '{"predictions":[7]}', contentType: 'application/json' });
    expect(seen).toEqual({ path: '/invocations', type: 'application/json', body: '{"inputs": [1]}' });
  });

  it("passes the model's 4xx answer through unchanged", async () => {
    expect(await call('{"inputs": ["bad"]}')).toMatchObject({ status: 400, body: '{"error_code":"BAD_REQUEST","message":"no"}' });
  });

  it('turns a 5xx into a backend error', async () => {
    await expect(call('{"inputs": ["crash"]}')).rejects.toBeInstanceOf(BackendError);
  });

  it('turns a slow answer into a timeout', async () => {
    await expect(call('{"inputs": ["slow"]}', 100)).rejects.toBeInstanceOf(BackendTimeoutError);
  });

  it('turns a refused connection into a backend error', async () => {
    await expect(call('{"inputs": [1]}', 1000, 'http://127.0.0.1:9')).rejects.toBeInstanceOf(BackendError);
  });
});

describe('Backend probe: MLflow HTTP server', () => {
  /** A server answering `/ping` with `status`, or never when `status` is 0. */
  async function pingServer(status: number) {
    const s = createServer((req, res) => {
      if (status === 0) return;
      res.writeHead(req.url === '/ping' ? status : 404, { 'content-type': 'application/json' }).end('\n');
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
  }
  const probe = (url: string, signal = new AbortController().signal) => new HttpBackend(url, 25_000).probe(signal);

  it('is ready while GET /ping answers 200, and not ready, with the URL and the fix, once the server is stopped', async () => {
    // Prepare
    const { server: s, url } = await pingServer(200);
    // Act
    const up = await probe(`${url}/`);
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
    const down = await probe(`${url}/`);
    // Assess
    expect(up).toEqual({ ready: true, message: `The backend ${url}/invocations answered GET /ping with 200.` });
    expect(down.ready).toBe(false);
    expect(down.message).toMatch(new RegExp(`^The backend ${url}/invocations could not be reached \\(connect ECONNREFUSED [^)]+\\): start the model server or fix backend\\.url in the configuration\\.$`));
  });

  it('is not ready while /ping answers anything but 2xx', async () => {
    const { server: s, url } = await pingServer(503);
    try {
      expect(await probe(url)).toMatchObject({ ready: false, message: expect.stringContaining('answered GET /ping with 503, not ready') });
      expect(await probe(`${url}/nothing-here`)).toMatchObject({ ready: false, message: expect.stringContaining('answered GET /ping with 404: it is not an MLflow scoring server') });
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('gives up when its signal aborts', async () => {
    const { server: s, url } = await pingServer(0);
    try {
      const controller = new AbortController();
      const result = probe(url, controller.signal);
      controller.abort();
      expect(await result).toMatchObject({ ready: false, message: expect.stringContaining('did not answer GET /ping within') });
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
});
