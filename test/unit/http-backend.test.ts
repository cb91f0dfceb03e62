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
