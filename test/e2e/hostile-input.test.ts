import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { configWith } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';
import { type RawResponse, rawRequest } from '../helpers/raw-http.js';
import { HOSTILE, HOSTILE_LIMITS } from '../fixtures/hostile-requests.js';

const config = configWith((c) => {
  const iris = c.endpoints.find((e: { name: string }) => e.name === 'iris');
  iris.capture = { ...iris.capture, ...HOSTILE_LIMITS };
});

/** What an answer must never show: stack frames, source paths, engine or runtime internals. */
const INTERNALS = /\n\s+at |node_modules|\/lambdas\/|\.[jt]s:\d|RangeError|TypeError|ReferenceError|SyntaxError|ENOENT|EACCES|DuckDB|duckdb|\/tmp\/|stack/;

let dir: string;
let stack: LocalStack;
const answers = new Map<string, RawResponse>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-hostile-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0 });
  for (const h of HOSTILE) {
    answers.set(h.id, await rawRequest(stack.server.url, { method: h.method, path: h.path ?? '/serving-endpoints/iris/invocations', headers: h.headers, body: h.body }));
  }
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hostile input', () => {
  it('has at least 60 requests, each with its own id', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(60);
    expect(new Set(HOSTILE.map((h) => h.id)).size).toBe(HOSTILE.length);
  });

  it.each(HOSTILE.map((h) => [h.id, h] as const))('%s: a clear 4xx, nothing internal in the answer', (_, h) => {
    const answer = answers.get(h.id) as RawResponse;
    expect(answer.status, h.why).toBeGreaterThanOrEqual(400);
    expect(answer.status, h.why).toBeLessThan(500);
    if (h.status) expect(answer.status, h.why).toBe(h.status);
    expect(answer.body, h.why).not.toMatch(INTERNALS);
    if (h.byNode) return;
    // MLflow answers 415 in plain text; every other refusal is MLflow error JSON.
    if (answer.status === 415) expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    else expect(JSON.parse(answer.body), h.why).toEqual({ error_code: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) });
    expect(answer.headers['x-request-id'], h.why).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('captures every request that reached the proxy, with the status its caller got', async () => {
    await stack.stream.flush();
    const captured = new Map<string, { status_code: number; logging_error_codes: string[] }>();
    for (const table of ['iris_payload', 'unrouted_payload', 'iris_classifier_payload', 'chat_payload']) {
      for (const r of await queryRows(dir, config, `SELECT request_id, status_code, logging_error_codes FROM ${table}`)) {
        captured.set(String(r.request_id), { status_code: Number(r.status_code), logging_error_codes: (r.logging_error_codes as string[]) ?? [] });
      }
    }
    const missing: string[] = [];
    for (const h of HOSTILE.filter((x) => x.captured !== false)) {
      const answer = answers.get(h.id) as RawResponse;
      const row = captured.get(answer.headers['x-request-id'] as string);
      if (!row) {
        missing.push(h.id);
        continue;
      }
      expect(row.status_code, h.id).toBe(answer.status);
      for (const code of h.loggingErrorCodes ?? []) expect(row.logging_error_codes, h.id).toContain(code);
    }
    expect(missing).toEqual([]);
    // Nothing was set aside as unreadable or lost on the way.
    expect(stack.stream.failedConversion).toBe(0);
    expect(stack.counters.total('CaptureLost')).toBe(0);
  });

  it('keeps serving: a valid request after the corpus is answered and captured', async () => {
    const ping = await rawRequest(stack.server.url, { method: 'GET', path: '/ping' });
    expect(ping.status).toBe(200);
    const ok = await rawRequest(stack.server.url, { path: '/serving-endpoints/iris/invocations', body: JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] }) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ predictions: [0] });
  });
});
