/**
 * What a caller without the token can do to a server that has one: nothing that stops it or
 * starves it. Request targets that once stopped the process, health checks with a body that
 * never ends, and unauthenticated bodies trickled a byte at a time, all over real sockets,
 * while an authenticated caller keeps being answered. Bounded in count and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { configWith } from '../helpers/config.js';
import { rawRequest, type Trickle, trickle } from '../helpers/raw-http.js';

const TOKEN = 'tok-untrusted-callers-0d2c';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const IRIS = '/serving-endpoints/iris/invocations';
const ROW = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
/** Small limits, so the flood that would starve the server takes a few sockets. */
const SLOTS = 4;
const config = configWith((c) => {
  c.local = { max_in_flight: SLOTS, body_grace_seconds: 0.5, body_min_bytes_per_second: 1000, body_deadline_seconds: 3 };
});

let dir: string;
let stack: LocalStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-untrusted-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, token: TOKEN, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const score = () => rawRequest(stack.server.url, { path: IRIS, headers: AUTH, body: ROW });

describe('a server with a token, against callers without it', () => {
  it('refuses an OpenAI client without the token in OpenAI’s error shape, and serves it with the token', async () => {
    const client = (apiKey: string) => new OpenAI({ baseURL: `${stack.server.url}/serving-endpoints`, apiKey, maxRetries: 0 });
    const refused = await client('wrong').chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('unauthenticated');
    const answered = await client(TOKEN).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(answered.choices[0]?.message.content).toBe('hi');
  });

  it.each(['//', '///', '//?x', '//:/invocations', 'http://'])('the request target %s is refused, with or without the token, and the server keeps serving', async (path) => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const anonymous = await rawRequest(stack.server.url, { method, path, body: method === 'POST' ? ROW : undefined });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      const authenticated = await rawRequest(stack.server.url, { method, path, headers: AUTH, body: method === 'POST' ? ROW : undefined });
      expect(authenticated.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(authenticated.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect((await score()).status).toBe(200);
  });

  it('health checks with bodies that never end, and unauthenticated trickles, leave authenticated scoring answered', async () => {
    const flood: Trickle[] = [];
    try {
      for (let i = 0; i < 3 * SLOTS; i++) {
        flood.push(trickle(stack.server.url, { path: i % 2 ? '/ping' : '/health', declared: 1_000_000, everyMs: 200 }));
        flood.push(trickle(stack.server.url, { path: IRIS, declared: 1_000_000, everyMs: 200 }));
      }
      // Each is answered at once without its body being read: 405 for the health checks (GET
      // only), 401 for the rest.
      const statuses = await Promise.all(flood.map((t) => t.status));
      expect(statuses.filter((s) => s === 405)).toHaveLength(3 * SLOTS);
      expect(statuses.filter((s) => s === 401)).toHaveLength(3 * SLOTS);
      const answers = await Promise.all(Array.from({ length: SLOTS }, score));
      expect(answers.map((a) => a.status)).toEqual(Array(SLOTS).fill(200));
      expect(JSON.parse(answers[0]?.body ?? '')).toEqual({ predictions: [0] });
      expect(stack.server.overloaded()).toBe(0);
    } finally {
      for (const t of flood) t.close();
    }
  });

  it('an authenticated body slower than the configured pace is cut with 408, and frees its slot', async () => {
    const before = stack.server.slowBodies();
    const slow = Array.from({ length: SLOTS }, () => trickle(stack.server.url, { path: IRIS, headers: AUTH, declared: 1_000_000, everyMs: 100 }));
    try {
      // The slots are held while the bodies trickle…
      await new Promise((r) => setTimeout(r, 200));
      expect((await score()).status).toBe(503);
      // …until the pace cuts them: after the grace period, 1,000 bytes/s are needed.
      expect(await Promise.all(slow.map((t) => t.status))).toEqual(Array(SLOTS).fill(408));
      expect(stack.server.slowBodies() - before).toBe(SLOTS);
      expect((await score()).status).toBe(200);
    } finally {
      for (const t of slow) t.close();
    }
  });

  it('answers 408 in MLflow’s error shape, naming the pace', async () => {
    const t = trickle(stack.server.url, { path: IRIS, headers: AUTH, declared: 100, everyMs: 1000 });
    try {
      expect(await t.status).toBe(408);
    } finally {
      t.close();
    }
    const full = await rawRequest(stack.server.url, { path: IRIS, headers: { ...AUTH, 'content-length': '100' }, body: '{' });
    expect(full.status).toBe(408);
    expect(JSON.parse(full.body)).toEqual({ error_code: 'REQUEST_TIMEOUT', message: expect.stringMatching(/^The request body arrived too slowly: 1 bytes in \d+\.\d s\. A body must arrive at 1000 bytes\/s after the first 0\.5 s, and 3 s in all at most\.$/) });
  });
});
