/**
 * Property-based fuzzing of the local server (fast-check): generated requests (see
 * `test/fuzz/requests.ts`) are sent byte for byte over sockets to a stack with a token, and
 * after each one these hold:
 * - the proxy itself never answers 5xx (the built-in models cannot fail as backends);
 * - a 4xx is MLflow error JSON (`error_code`, `message`), or plain text for 415, and reveals
 *   nothing internal; a 2xx with a JSON content type is JSON;
 * - every answer of the handler carries its request id;
 * - the server is alive: `GET /ping` answers 200;
 * and, after the run, every answered invocation is captured once, with the status its caller
 * got, and nothing else is captured.
 *
 * CI runs a fixed seed and a bounded number of runs. `npm run fuzz` runs more with a new seed,
 * printed first; `FUZZ_SEED=<seed> FUZZ_RUNS=<n> npm run fuzz` replays a run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRoute } from '../../lambdas/core/routes.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { configWith } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';
import { type RawResponse, rawRequest } from '../helpers/raw-http.js';
import { type FuzzRequest, request } from '../fuzz/requests.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 20261130;
const TOKEN = 'tok-fuzz-5e1d';
const AUTH = `Bearer ${TOKEN}`;

/** What an answer must never show: stack frames, source paths, engine or runtime internals. */
const INTERNALS = /\n\s+at |node_modules|\/lambdas\/|\.[jt]s:\d|RangeError|TypeError|ReferenceError|DuckDB|duckdb|\/tmp\/|Cannot read prop|is not a function|undefined \(reading/;

const config = configWith((c) => {
  // Every invocation captured, so the table can be checked against the answers.
  for (const owner of [...c.endpoints, ...c.models]) owner.capture = { ...owner.capture, sampling_fraction: 1, enabled: true };
});

let dir: string;
let stack: LocalStack;
/** request id → status answered, for invocations that reached the handler. */
const invocations = new Map<string, number>();
/** Answers by status, printed after a long run to show what the generators reach. */
const statuses = new Map<number, number>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-fuzz-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, token: TOKEN, bufferIntervalSeconds: 0, scheduleRefresh: false });
  if (process.env.FUZZ_RUNS) process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs (replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} npm run fuzz)\n`);
}, 60_000);

afterAll(async () => {
  if (process.env.FUZZ_RUNS) process.stdout.write(`fuzz: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}\n`);
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** True when the body is JSON holding a number that parses to ±Infinity. */
function holdsInfinity(body: Buffer | undefined): boolean {
  let found = false;
  try {
    JSON.parse(body?.toString('utf8') ?? '', (_k, v: unknown) => {
      if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) found = true;
      return v;
    });
  } catch {
    return false;
  }
  return found;
}

/** The route the handler sees for a request target (its path, as sent). */
const routeOf = (r: FuzzRequest) => parseRoute(r.method, r.path.split('?')[0] || '/');

function checkAnswer(r: FuzzRequest, answer: RawResponse): void {
  statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  const context = `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.toString('latin1').slice(0, 300)}`;
  expect(answer.status, context).toBeGreaterThanOrEqual(200);
  // MLflow's REST API paths this server does not serve are answered 501 Not Implemented, as documented.
  if (!(answer.status === 501 && routeOf(r).kind === 'not-implemented')) expect(answer.status, context).toBeLessThan(500);
  // Refusals say what was wrong with the request and nothing about the server (answers echo what was sent).
  if (answer.status >= 400) expect(answer.body, context).not.toMatch(INTERNALS);
  const authenticated = r.headers.authorization === AUTH || r.path.split('?')[0] === '/ping' || r.path.split('?')[0] === '/health';
  if (!authenticated) {
    expect(answer.status, context).toBe(401);
    return;
  }
  expect(answer.headers['x-request-id'], context).toMatch(/^[0-9a-f-]{36}$/);
  const route = routeOf(r);
  if (route.kind === 'invoke-endpoint' || route.kind === 'invoke-model' || (route.kind === 'method-not-allowed' && route.invocation !== undefined)) {
    invocations.set(answer.headers['x-request-id'] as string, answer.status);
  }
  // A HEAD answer has no body to check.
  if (r.method === 'HEAD') return;
  if (answer.status >= 400) {
    if (answer.status === 415) expect(answer.headers['content-type'], context).toMatch(/^text\/plain/);
    // The SQL console's refusals also say where in the query, when the parser did.
    else expect(Object.keys(JSON.parse(answer.body)).sort().filter((k) => !(r.path.startsWith('/api/sql') && (k === 'line' || k === 'column'))), context).toEqual(['error_code', 'message']);
    if (answer.status !== 415) expect(JSON.parse(answer.body).error_code, context).toMatch(/^[A-Z_]+$/);
  } else {
    if (/json/.test(answer.headers['content-type'] ?? '') && answer.body.trim() !== '' && routeOf(r).kind !== 'version') expect(() => JSON.parse(answer.body), context).not.toThrow();
    // A JSON number no double can hold is refused, never scored as Infinity (or as the null JSON makes of it).
    expect(holdsInfinity(r.body), context).toBe(false);
  }
}

describe('fuzzing the local server', () => {
  it(
    'answers every generated request without a 5xx of its own, in the documented shape, and stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(request(AUTH), async (r) => {
          const answer = await rawRequest(stack.server.url, { method: r.method, path: r.path, headers: r.headers, body: r.body });
          checkAnswer(r, answer);
          const ping = await rawRequest(stack.server.url, { method: 'GET', path: '/ping' });
          expect(ping.status).toBe(200);
        }),
        { seed: SEED, numRuns: RUNS },
      );
      expect(stack.server.faults()).toBe(0);
    },
    Math.max(60_000, RUNS * 200),
  );

  it('captures every answered invocation once, with the status its caller got, and nothing else', async () => {
    await stack.stream.flush();
    const tables = [...config.endpoints.map((e) => e.name), ...config.models.map((m) => m.name), 'unrouted'].map((n) => `${n.replaceAll('-', '_')}_payload`);
    const captured = new Map<string, number>();
    for (const table of tables) {
      for (const row of await queryRows(dir, config, `SELECT request_id, status_code FROM ${table}`).catch(() => [])) {
        expect(captured.has(String(row.request_id)), `${row.request_id} captured twice`).toBe(false);
        captured.set(String(row.request_id), Number(row.status_code));
      }
    }
    expect(invocations.size).toBeGreaterThan(0);
    expect(captured).toEqual(invocations);
    expect(stack.stream.failedConversion).toBe(0);
  });
});
