/**
 * The endpoint API reports the served entities' backends as they are: the local stack in
 * front of a real HTTP model server on loopback that is stopped and started again. The probe
 * cache lasts no time here (an option of the stack), so nothing waits and no timing is asserted.
 */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { startLocalStack } from '../helpers/local.js';

/** A stand-in MLflow scoring server: 200 on /ping and a prediction on /invocations. */
function modelServer(): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/ping') return void res.writeHead(200, { 'content-type': 'application/json' }).end('\n');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[1]}');
    });
  });
}

const listen = (server: Server, port: number) => new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
const stop = (server: Server) => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
};

interface EndpointState {
  state: { ready: string; config_update: string };
  config: { served_entities: { name: string; state: { deployment: string; deployment_state_message?: string } }[] };
}

let dir: string;
let stack: LocalStack;
let model: Server;
let port: number;

beforeAll(async () => {
  model = modelServer();
  await listen(model, 0);
  port = (model.address() as AddressInfo).port;
  const config = configWith((c) => {
    const signature = c.models[0].versions[1].signature;
    c.models.push({ name: 'remote-model', versions: [{ version: '1', stage: 'Production', backend: { type: 'http', url: `http://127.0.0.1:${port}`, timeout_ms: 2000 }, signature }] });
    c.endpoints.push({ name: 'remote', served_entities: [{ entity_name: 'remote-model', entity_version: '1', traffic_percentage: 100 }], capture: { enabled: true } });
  });
  dir = await mkdtemp(join(tmpdir(), 'it-endpoint-state-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false, backendProbeTtlMs: 0 });
});

afterAll(async () => {
  await stack?.close();
  if (model?.listening) await stop(model);
  await rm(dir, { recursive: true, force: true });
});

async function describeEndpoint(name: string): Promise<EndpointState> {
  const res = await fetch(`${stack.server.url}/api/2.0/serving-endpoints/${name}`);
  expect(res.status).toBe(200);
  return (await res.json()) as EndpointState;
}

describe('Endpoint API: the state of an endpoint follows its backend', () => {
  it('is READY while the model server answers /ping', async () => {
    const state = await describeEndpoint('remote');
    expect(state.state).toEqual({ ready: 'READY', config_update: 'NOT_UPDATING' });
    expect(state.config.served_entities).toEqual([{ name: 'remote-model-1', entity_name: 'remote-model', entity_version: '1', state: { deployment: 'DEPLOYMENT_READY' } }]);
  });

  it('is NOT_READY once the server is stopped, its only entity DEPLOYMENT_FAILED with the URL and the fix; other endpoints stay READY', async () => {
    // Act
    await stop(model);
    const state = await describeEndpoint('remote');
    const list = (await (await fetch(`${stack.server.url}/api/2.0/serving-endpoints`)).json()) as { endpoints: (EndpointState & { name: string })[] };
    // Assess
    expect(state.state.ready).toBe('NOT_READY');
    const [entity] = state.config.served_entities;
    expect(entity?.state.deployment).toBe('DEPLOYMENT_FAILED');
    expect(entity?.state.deployment_state_message).toContain(`The backend http://127.0.0.1:${port}/invocations could not be reached (connect ECONNREFUSED`);
    expect(entity?.state.deployment_state_message).toMatch(/: start the model server or fix backend\.url in the configuration\.$/);
    expect(entity?.state.deployment_state_message).not.toContain(dir);
    expect(Object.fromEntries(list.endpoints.map((e) => [e.name, e.state.ready]))).toEqual({ iris: 'READY', chat: 'READY', remote: 'NOT_READY' });
  });

  it('is READY again once the server is back and the cached probe has expired', async () => {
    model = modelServer();
    await listen(model, port);
    const state = await describeEndpoint('remote');
    expect(state.state.ready).toBe('READY');
    expect(state.config.served_entities[0]?.state).toEqual({ deployment: 'DEPLOYMENT_READY' });
    // And it scores.
    const res = await fetch(`${stack.server.url}/serving-endpoints/remote/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"inputs": [[1, 2, 3, 4]]}' });
    expect(res.status).toBe(200);
  });
});
