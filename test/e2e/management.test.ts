/**
 * What is served and captured, changed at runtime through the management API in the shapes
 * MLflow's registry client and Databricks' serving API send: stages, aliases, new versions,
 * an endpoint's traffic and its capture, each live at the next call (TTL 0 here), versioned,
 * recorded in the served-entities history, kept across a restart, and refused whole with the
 * field named when it breaks a rule.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../lambdas/wiring/local.js';
import { configWith } from '../helpers/config.js';
import { startLocalStack } from '../helpers/local.js';
import { queryRows } from '../helpers/query.js';

const config = configWith((c) => {
  c.serving = { state_ttl_seconds: 0 };
});
const IRIS_ROW = { dataframe_split: { columns: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'], data: [[5.1, 3.5, 1.4, 0.2]] } };
let dir: string;
let stack: LocalStack;

const start = () => startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown>; served: string | null }> {
  const res = await fetch(`${stack.server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, served: res.headers.get('served-model-name') };
}
const score = (path: string, body: unknown = IRIS_ROW) => call('POST', path, body);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-management-'));
  stack = await start();
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sticky routing', () => {
  it("sends a caller's requests with one client_request_id to the same served entity, every time", async () => {
    for (let i = 0; i < 10; i++) {
      const served = new Set<string | null>();
      for (let k = 0; k < 3; k++) served.add((await score('/serving-endpoints/iris/invocations', { ...IRIS_ROW, client_request_id: `caller-${i}` })).served);
      expect(served.size, `caller-${i}`).toBe(1);
    }
  });
});

describe('the MLflow registry at runtime', () => {
  it('moves a stage: the next call to the stage is answered by the version moved there, with no restart', async () => {
    expect((await score('/model/iris-classifier/Production/invocations')).served).toBe('iris-classifier-2');
    const moved = await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'iris-classifier', version: '3', stage: 'production', archive_existing_versions: true });
    expect(moved.status).toBe(200);
    expect(moved.json.model_version).toMatchObject({ name: 'iris-classifier', version: '3', current_stage: 'Production', aliases: ['challenger'] });
    expect((await score('/model/iris-classifier/Production/invocations')).served).toBe('iris-classifier-3');
    // Version 2 was archived with it, as MLflow does with archive_existing_versions.
    const two = await call('GET', '/api/2.0/mlflow/model-versions/get?name=iris-classifier&version=2');
    expect(two.json.model_version).toMatchObject({ current_stage: 'Archived' });
    expect((await score('/model/iris-classifier/2/invocations')).status).toBe(404);
  });

  it('moves and deletes an alias', async () => {
    expect((await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris-classifier', alias: 'champion', version: 3 })).status).toBe(200);
    expect((await score('/model/iris-classifier/@champion/invocations')).served).toBe('iris-classifier-3');
    expect((await call('DELETE', '/api/2.0/mlflow/registered-models/alias', { name: 'iris-classifier', alias: 'champion' })).status).toBe(200);
    expect((await score('/model/iris-classifier/@champion/invocations')).status).toBe(404);
    const model = await call('GET', '/api/2.0/mlflow/registered-models/get?name=iris-classifier');
    expect(model.json.registered_model).toMatchObject({ name: 'iris-classifier', aliases: [{ alias: 'challenger', version: '3' }] });
  });

  it('registers a version with its backend, then serves it by number', async () => {
    const created = await call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris-classifier', backend: { type: 'builtin', model: 'iris' } });
    expect(created.status).toBe(200);
    expect(created.json.model_version).toMatchObject({ version: '5', current_stage: 'None' });
    expect((await score('/model/iris-classifier/5/invocations')).served).toBe('iris-classifier-5');
  });

  it('refuses what breaks a rule, naming it, and changes nothing', async () => {
    const unknown = await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'no-such-model', version: '1', stage: 'Production' });
    expect(unknown).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const stage = await call('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'iris-classifier', version: '3', stage: 'Live' });
    expect(stage.status).toBe(400);
    expect(String(stage.json.message)).toContain("'stage'");
    const version = await call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris-classifier', alias: 'x', version: '99' });
    expect(version).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const other = await call('GET', '/api/2.0/mlflow/experiments/list');
    expect(other).toMatchObject({ status: 501, json: { error_code: 'NOT_IMPLEMENTED' } });
    expect(String(other.json.message)).toContain('/api/2.0/mlflow/experiments/list');
  });
});

describe("an endpoint's served entities, traffic and capture at runtime", () => {
  it('sends all traffic to one entity, live at the next call, with a new config_version', async () => {
    const before = await call('GET', '/api/2.0/serving-endpoints/iris');
    const version = (before.json.config as { config_version: number }).config_version;
    const changed = await call('PUT', '/api/2.0/serving-endpoints/iris/config', {
      served_entities: [
        { entity_name: 'iris-classifier', entity_version: '2' },
        { entity_name: 'iris-classifier', entity_version: '3' },
      ],
      traffic_config: { routes: [{ served_model_name: 'iris-classifier-2', traffic_percentage: 0 }, { served_model_name: 'iris-classifier-3', traffic_percentage: 100 }] },
    });
    expect(changed.status).toBe(200);
    expect((changed.json.config as { config_version: number }).config_version).toBe(version + 1);
    for (let i = 0; i < 5; i++) expect((await score('/serving-endpoints/iris/invocations')).served).toBe('iris-classifier-3');
  });

  it('answers a change with the new served entities and their state', async () => {
    const changed = await call('PUT', '/api/2.0/serving-endpoints/chat/config', {
      served_entities: [
        { entity_name: 'echo', entity_version: '1' },
        { name: 'echo-shadow', entity_name: 'echo', entity_version: '1' },
      ],
      traffic_config: { routes: [{ served_model_name: 'echo-1', traffic_percentage: 90 }, { served_entity_name: 'echo-shadow', traffic_percentage: 10 }] },
    });
    expect(changed.status).toBe(200);
    const served = (changed.json.config as { served_entities: { name: string; state: { deployment: string } }[] }).served_entities;
    expect(served.map((e) => [e.name, e.state.deployment])).toEqual([
      ['echo-1', 'DEPLOYMENT_READY'],
      ['echo-shadow', 'DEPLOYMENT_READY'],
    ]);
    expect((await score('/serving-endpoints/chat/served-models/echo-shadow/invocations', { inputs: ['x'] })).served).toBe('echo-shadow');
  });

  it('refuses a traffic split that does not add up, naming the field', async () => {
    const bad = await call('PUT', '/api/2.0/serving-endpoints/iris/config', { traffic_config: { routes: [{ served_model_name: 'iris-classifier-3', traffic_percentage: 50 }] } });
    expect(bad.status).toBe(400);
    expect(String(bad.json.message)).toMatch(/endpoints\[0\]\.served_entities/);
    expect((await call('PUT', '/api/2.0/serving-endpoints/nope/config', { auto_capture_config: { enabled: false } })).status).toBe(404);
  });

  it('disables capture and enables it again, any number of times: the rows in between are absent', async () => {
    for (const round of [1, 2]) {
      const off = await call('PUT', '/api/2.0/serving-endpoints/iris/ai-gateway', { inference_table_config: { enabled: false } });
      expect(off.json).toMatchObject({ inference_table_config: { enabled: false } });
      await score('/serving-endpoints/iris/invocations', { ...IRIS_ROW, client_request_id: `off-${round}` });
      const on = await call('PUT', '/api/2.0/serving-endpoints/iris/ai-gateway', { inference_table_config: { enabled: true, sampling_fraction: 1 } });
      expect(on.json).toMatchObject({ inference_table_config: { enabled: true } });
      await score('/serving-endpoints/iris/invocations', { ...IRIS_ROW, client_request_id: `on-${round}` });
    }
    await stack.stream.flush();
    const rows = await queryRows(dir, config, `SELECT client_request_id AS id, sampling_fraction FROM iris_payload WHERE client_request_id LIKE 'o%' ORDER BY timestamp_ms`);
    expect(rows).toEqual([
      { id: 'on-1', sampling_fraction: 1 },
      { id: 'on-2', sampling_fraction: 1 },
    ]);
    const endpoint = await call('GET', '/api/2.0/serving-endpoints/iris');
    expect((endpoint.json.config as { auto_capture_config: unknown }).auto_capture_config).toMatchObject({ enabled: true });
    // Each change is in the history, with its caller.
    const history = await queryRows(dir, config, `SELECT count(DISTINCT applied_at) AS changes, count_if(NOT capture_enabled) AS off_rows FROM served_entities_history WHERE endpoint = 'iris'`);
    expect(Number(history[0]?.changes)).toBeGreaterThanOrEqual(8);
    expect(Number(history[0]?.off_rows)).toBeGreaterThan(0);
  });

  it('keeps the runtime state across a restart', async () => {
    await stack.close();
    stack = await start();
    expect((await score('/serving-endpoints/iris/invocations')).served).toBe('iris-classifier-3');
    expect((await score('/model/iris-classifier/Production/invocations')).served).toBe('iris-classifier-3');
  });
});

describe('the management credential', () => {
  it('is required when set, and the scoring token does not stand for it', async () => {
    const own = await mkdtemp(join(tmpdir(), 'it-management-token-'));
    const guarded = await startLocalStack({ config, dataDir: own, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false, token: 'score-token-1', managementToken: 'manage-token-2' });
    try {
      const put = (authorization: string) =>
        fetch(`${guarded.server.url}/api/2.0/serving-endpoints/iris/ai-gateway`, { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ inference_table_config: { enabled: true } }) });
      expect((await put('Bearer score-token-1')).status).toBe(401);
      expect((await put('Bearer manage-token-2')).status).toBe(200);
      // Scoring still takes the scoring token only.
      const scored = await fetch(`${guarded.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { authorization: 'Bearer manage-token-2', 'content-type': 'application/json' }, body: JSON.stringify(IRIS_ROW) });
      expect(scored.status).toBe(401);
    } finally {
      await guarded.close();
      await rm(own, { recursive: true, force: true });
    }
  });
});
