/**
 * Redaction follows the data, not the route: personal data sent through every capture path (an
 * endpoint, the classic route of the model it serves, a mistyped endpoint, a wrong method, a
 * body the capture cannot parse) reaches no table, spill or error file. The project-wide paths
 * apply everywhere; an endpoint's also on its model's classic route; every path on unrouted calls.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const EMAIL = 'ada.lovelace@example.org';
const SSN = '219-09-9999';
const PHONE = '+44 20 7946 0958';

const config = configWith((c) => {
  // Everywhere: the SSN. On the chat endpoint (and so on echo's classic route): the email.
  // On the iris endpoint: the phone number.
  c.redact_paths = ['$..ssn'];
  c.endpoints.find((e: { name: string }) => e.name === 'chat').capture.redact_paths = ['$..email'];
  c.endpoints.find((e: { name: string }) => e.name === 'iris').capture.redact_paths = ['$..phone'];
});

let dir: string;
let stack: LocalStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-redaction-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

const send = (method: string, path: string, body: unknown) =>
  fetch(`${stack.server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }).then((r) => r.status);

const person = { email: EMAIL, ssn: SSN, phone: PHONE };

describe('redaction on every capture path', () => {
  it('keeps the configured personal data out of every file the capture writes', async () => {
    const statuses = [
      await send('POST', '/serving-endpoints/chat/invocations', { messages: [{ role: 'user', content: 'hi' }], metadata: person }),
      await send('POST', '/model/echo/1/invocations', { dataframe_records: [person] }),
      await send('POST', '/serving-endpoints/chaat/invocations', { dataframe_records: [person] }),
      await send('POST', '/model/ech0/1/invocations', { inputs: [person] }),
      await send('GET', '/serving-endpoints/chat/invocations', undefined),
      await send('PUT', '/serving-endpoints/chat/invocations', { inputs: [person] }),
      // iris does not redact emails (its endpoint asks for the phone): none is sent there.
      await send('POST', '/serving-endpoints/iris/invocations', { dataframe_records: [{ ssn: SSN, phone: PHONE, sepal_length: 1, sepal_width: 1, petal_length: 1, petal_width: 1 }] }),
    ];
    expect(statuses).toEqual([200, 200, 404, 404, 405, 405, 200]);
    await stack.stream.flush();

    const rows = [
      ...(await queryRows(dir, config, 'SELECT request, response FROM chat_payload')),
      ...(await queryRows(dir, config, 'SELECT request, response FROM echo_payload')),
      ...(await queryRows(dir, config, 'SELECT request, response FROM unrouted_payload')),
      ...(await queryRows(dir, config, 'SELECT request, response FROM iris_payload')),
    ];
    expect(rows.length).toBe(7);
    const stored = JSON.stringify(rows);
    for (const secret of [EMAIL, SSN]) expect(stored, secret).not.toContain(secret);
    expect(stored).toContain('[REDACTED]');

    // Every file of the data folder, Parquet, spill and error output alike.
    for (const f of await readdir(dir, { recursive: true })) {
      const bytes = await readFile(join(dir, f)).catch(() => Buffer.alloc(0));
      for (const secret of [EMAIL, SSN]) expect(bytes.includes(secret), `${secret} in ${f}`).toBe(false);
    }
  });

  it('redacts an endpoint’s own paths on its calls and on unrouted ones only, the project’s everywhere', async () => {
    // The phone is redacted on iris (its endpoint's path) and on unrouted calls (every path)…
    const iris = await queryRows(dir, config, 'SELECT request FROM iris_payload');
    expect(String(iris[0]?.request)).not.toContain(PHONE);
    const unrouted = await queryRows(dir, config, "SELECT request FROM unrouted_payload WHERE request LIKE '%dataframe_records%'");
    expect(String(unrouted[0]?.request)).not.toContain(PHONE);
    // …but not on chat's or echo's, which do not ask for it.
    const echo = await queryRows(dir, config, 'SELECT request FROM echo_payload');
    expect(String(echo[0]?.request)).toContain(PHONE);
  });
});
