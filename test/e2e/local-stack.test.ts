import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServerError, startLocalServer } from '../../lambdas/adapters/local/http-server.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { demoConfig } from '../helpers/config.js';
// The three rows of the Databricks documentation's client_request_id example.
import seedRecords from '../fixtures/seed-dataframe-records.json' with { type: 'json' };

let dir: string;
let stack: LocalStack;
let url: string;

async function post(path: string, body: string, contentType = 'application/json', headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  await stack.stream.flush();
  const engine = await LocalQueryEngine.open(dir, demoConfig());
  try {
    return [...(await engine.query(sql)).rows];
  } finally {
    engine.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-stack-'));
  stack = await startLocalStack({ config: demoConfig(), dataDir: dir, port: 0, bufferIntervalSeconds: 1 });
  url = stack.server.url;
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Local stack: the seed examples', () => {
  it('scores the seed tensor example on the classic route and captures it', async () => {
    const res = await post('/model/iris-classifier/Production/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}', 'application/json', {
      authorization: `Basic ${Buffer.from('token:anything').toString('base64')}`,
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ predictions: [0] });
    const id = res.headers.get('x-request-id');
    const [row] = await rows(`SELECT request_id, status_code, endpoint, request_metadata FROM iris_classifier_payload WHERE request_id = '${id}'`);
    expect(row).toMatchObject({ request_id: id, status_code: 200, endpoint: 'iris-classifier', request_metadata: { model_version: '2' } });
  });

  it('scores the seed dataframe_records example and captures a 3-record batch as one row', async () => {
    const body = JSON.stringify({
      client_request_id: 'seed-batch',
      dataframe_records: seedRecords,
    });
    const res = await post('/serving-endpoints/iris/invocations', body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).predictions).toHaveLength(3);
    const found = await rows(`SELECT request_id, request FROM iris_payload WHERE client_request_id = 'seed-batch'`);
    expect(found).toHaveLength(1);
    expect(found[0]?.request_id).toBe(res.headers.get('x-request-id'));
    expect(found[0]?.request).toBe(body);
  });

  it('rows are queryable within the buffer interval without an explicit flush', async () => {
    const res = await post('/serving-endpoints/iris/invocations', '{"client_request_id": "timer", "inputs": [[6.9, 3.1, 5.4, 2.1]]}');
    const id = res.headers.get('x-request-id');
    const deadline = Date.now() + 10_000;
    let found: Record<string, unknown>[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const engine = await LocalQueryEngine.open(dir, demoConfig());
      found = [...(await engine.query(`SELECT 1 FROM iris_payload WHERE request_id = '${id}'`)).rows];
      engine.close();
    }
    expect(found).toHaveLength(1);
  });
});

describe('Local stack: bad input is answered like MLflow, captured, and serving goes on', () => {
  const cases: [string, string, string, string, number, string][] = [
    ['malformed JSON', '/serving-endpoints/iris/invocations', '{"inputs": [1,', 'application/json', 400, 'BAD_REQUEST'],
    ['a list body', '/serving-endpoints/iris/invocations', '[{"a": 1}]', 'application/json', 400, 'BAD_REQUEST'],
    ['two format keys', '/serving-endpoints/iris/invocations', '{"inputs": [1], "instances": [1]}', 'application/json', 400, 'BAD_REQUEST'],
    ['an unsupported content type', '/serving-endpoints/iris/invocations', '{"inputs": [1]}', 'text/plain', 415, ''],
    ['format=pandas-split', '/serving-endpoints/iris/invocations', '{"inputs": [1]}', 'application/json; format=pandas-split', 415, ''],
    ['an unknown endpoint', '/serving-endpoints/nope/invocations', '{"inputs": [1]}', 'application/json', 404, 'ENDPOINT_NOT_FOUND'],
    ['an archived version', '/model/iris-classifier/1/invocations', '{"inputs": [[1, 2, 3, 4]]}', 'application/json', 404, 'RESOURCE_DOES_NOT_EXIST'],
  ];

  it.each(cases)('%s', async (_name, path, body, type, status, code) => {
    const res = await post(path, body, type);
    expect(res.status).toBe(status);
    if (code) expect(JSON.parse(res.text).error_code).toBe(code);
    const id = res.headers.get('x-request-id');
    const table = path.startsWith('/model/') ? 'iris_classifier_payload' : path.includes('/nope/') ? 'unrouted_payload' : 'iris_payload';
    const [row] = await rows(`SELECT status_code FROM ${table} WHERE request_id = '${id}'`);
    expect(row?.status_code).toBe(status);
    expect((await post('/serving-endpoints/iris/invocations', '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}')).status).toBe(200);
  });

  it('an oversized body gets 413 and is captured without its body', async () => {
    const body = JSON.stringify({ inputs: [[1, 2, 3, 4]], pad: 'x'.repeat(16 * 1024 * 1024) });
    const res = await post('/serving-endpoints/iris/invocations', body);
    expect(res.status).toBe(413);
    const [row] = await rows(`SELECT status_code, request, logging_error_codes FROM iris_payload WHERE request_id = '${res.headers.get('x-request-id')}'`);
    expect(row).toEqual({ status_code: 413, request: null, logging_error_codes: ['MAX_REQUEST_SIZE_EXCEEDED'] });
  });
});

describe('Local stack: shutdown', () => {
  it('loses no answered request when stopped during traffic', async () => {
    const own = await mkdtemp(join(tmpdir(), 'it-stop-'));
    // A long interval: nothing is delivered before the stop, so the stop must deliver it all.
    const s = await startLocalStack({ config: demoConfig(), dataDir: own, port: 0, bufferIntervalSeconds: 600 });
    const answered: string[] = [];
    let stopped = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!stopped) {
        try {
          const res = await fetch(`${s.server.url}/serving-endpoints/iris/invocations`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}',
          });
          await res.text();
          if (res.status === 200) answered.push(res.headers.get('x-request-id') as string);
        } catch {
          return; // the server stopped accepting connections
        }
      }
    });
    while (answered.length < 200) await new Promise((r) => setTimeout(r, 10));
    const closing = s.close();
    stopped = true;
    await closing;
    await Promise.all(clients);
    const engine = await LocalQueryEngine.open(own, demoConfig());
    const ids = new Set((await engine.query('SELECT request_id FROM iris_payload')).rows.map((r) => r.request_id));
    engine.close();
    await rm(own, { recursive: true, force: true });
    expect(answered.filter((id) => !ids.has(id))).toEqual([]);
  });
});

describe('Local server: authentication', () => {
  const handler = async () => ({ statusCode: 200, body: 'ok' });

  it('refuses to listen beyond loopback without a token', async () => {
    await expect(startLocalServer({ handler, host: '0.0.0.0', port: 0, maxBodyBytes: 10 })).rejects.toBeInstanceOf(LocalServerError);
  });

  it('accepts Bearer and the seeds’ -u token:<t> form, and rejects the rest', async () => {
    const server = await startLocalServer({ handler, host: '127.0.0.1', port: 0, token: 's3cret', maxBodyBytes: 10 });
    const get = (auth?: string) => fetch(`${server.url}/version`, { headers: auth ? { authorization: auth } : {} }).then((r) => r.status);
    try {
      expect(await get()).toBe(401);
      expect(await get('Bearer wrong')).toBe(401);
      expect(await get('Bearer s3cret')).toBe(200);
      expect(await get(`Basic ${Buffer.from('token:s3cret').toString('base64')}`)).toBe(200);
      expect(await fetch(`${server.url}/ping`).then((r) => r.status)).toBe(200);
    } finally {
      await server.close();
    }
  });
});
