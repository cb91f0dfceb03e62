/**
 * What must never be stored or logged: credentials (the server token, API keys, signatures)
 * and the values at the configured redaction paths. The stack runs with a token, as it must
 * beyond loopback; everything the process writes to stdout and stderr is kept and searched.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setLogLevel } from '../../lambdas/core/log.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { configWith } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';

const TOKEN = 'tok-7f3a9c1e-never-stored';
const API_KEY = 'apikey-52b1-never-stored';
/** A piece of the token long enough to matter, sent as a basic-auth user name. */
const PIECE = TOKEN.slice(0, 16);
const SSN = '078-05-1120';
const EMAIL = 'jane.doe@example.com';

const config = configWith((c) => {
  const echo = c.models.find((m: { name: string }) => m.name === 'echo');
  echo.capture = { ...echo.capture, redact_paths: ['$..ssn', '$..email'] };
});

let dir: string;
let stack: LocalStack;
let written = '';

beforeAll(async () => {
  // Every level, so a secret in a debug line would be found too.
  setLogLevel('debug');
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write);
  }
  dir = await mkdtemp(join(tmpdir(), 'it-secrets-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, token: TOKEN, bufferIntervalSeconds: 0 });
});

afterAll(async () => {
  await stack?.close();
  vi.restoreAllMocks();
  setLogLevel('error');
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body: unknown, headers: Record<string, string>) =>
  fetch(`${stack.server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('secrets and personal data', () => {
  it('refuses a request without the token, and serves one with it', async () => {
    expect((await post('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }, {})).status).toBe(401);
    expect((await post('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` })).status).toBe(401);
    expect((await fetch(`${stack.server.url}/dashboard`)).status).toBe(401);
    expect((await fetch(`${stack.server.url}/ping`)).status).toBe(200);
    const ok = await post('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }, { authorization: `Bearer ${TOKEN}`, 'x-api-key': API_KEY });
    expect(ok.status).toBe(200);
    const basic = await post('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }, { authorization: `Basic ${Buffer.from(`alice:${TOKEN}`).toString('base64')}` });
    expect(basic.status).toBe(200);
    // A user name that is the token, holds it or is a piece of it must not name the requester.
    for (const user of [TOKEN, `x${TOKEN}y`, PIECE]) {
      const res = await post('/serving-endpoints/iris/invocations', { inputs: [[5.1, 3.5, 1.4, 0.2]] }, { authorization: `Basic ${Buffer.from(`${user}:${TOKEN}`).toString('base64')}` });
      expect(res.status).toBe(200);
    }
  });

  it('redacts the configured paths in the request and in the answer before anything is written', async () => {
    const res = await post('/model/echo/1/invocations', { dataframe_records: [{ ssn: SSN, profile: { email: EMAIL }, age: 41 }] }, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    // The caller gets the model's answer untouched; only what is stored is redacted.
    expect(await res.text()).toContain(SSN);
    await stack.stream.flush();
    const [row] = await queryRows(dir, config, 'SELECT request, response FROM echo_payload');
    expect(JSON.parse(String(row?.request))).toEqual({ dataframe_records: [{ ssn: '[REDACTED]', profile: { email: '[REDACTED]' }, age: 41 }] });
    expect(String(row?.response)).not.toContain(SSN);
    expect(String(row?.response)).toContain('[REDACTED]');
  });

  it('stores no credential and no redacted value in any table or spill file, and logs none', async () => {
    await stack.stream.flush();
    // With the stream gone, the next request is spilled and logged: those paths are searched too.
    await stack.stream.close();
    const spilled = await post('/model/echo/1/invocations', { dataframe_records: [{ ssn: SSN, profile: { email: EMAIL } }] }, { authorization: `Bearer ${TOKEN}`, 'x-api-key': API_KEY });
    expect(spilled.status).toBe(200);
    expect(stack.counters.total('CaptureSpilled')).toBe(1);
    const files = await readdir(dir, { recursive: true });
    expect(files.some((f) => f.startsWith('_spill/echo/'))).toBe(true);
    for (const f of files) {
      const text = await readFile(join(dir, f)).then((b) => b.toString('latin1'), () => '');
      for (const secret of [TOKEN, PIECE, API_KEY, SSN, EMAIL, Buffer.from(`alice:${TOKEN}`).toString('base64')]) expect(text.includes(secret), `${secret} in ${f}`).toBe(false);
    }
    const requesters = await queryRows(dir, config, 'SELECT DISTINCT requester FROM iris_payload ORDER BY 1');
    expect(requesters.map((r) => r.requester)).toEqual(['local:alice', 'local:token']);
    expect(written.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, PIECE, API_KEY, SSN, EMAIL]) expect(written.includes(secret), secret).toBe(false);
  });
});
