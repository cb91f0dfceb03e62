import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { SERVED_ENTITIES_HISTORY, backendTarget, recordServedEntities, servedEntities } from '../../lambdas/core/served-entities.js';
import { configWith } from '../helpers/config.js';

const T0 = Date.UTC(2026, 10, 1, 8, 0, 0);
const HOUR = 3_600_000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'served-entities-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The demo configuration with the chat endpoint's traffic split between echo 1 and a second entity. */
const split = configWith((c) => {
  const chat = (c.endpoints as { name: string; served_entities: Record<string, unknown>[] }[]).find((e) => e.name === 'chat');
  if (!chat) throw new Error('no chat endpoint in the demo configuration');
  (chat as { served_entities: unknown[] }).served_entities = [
    { entity_name: 'echo', entity_version: '1', traffic_percentage: 80 },
    { name: 'echo-shadow', entity_name: 'echo', entity_version: '1', traffic_percentage: 20 },
  ];
});
const demo = configWith(() => undefined);

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const engine = await LocalQueryEngine.open(dir, demo);
  try {
    return [...(await engine.query(sql)).rows];
  } finally {
    engine.close();
  }
}

describe('the served-entities table', () => {
  it('records a configuration once, and again when it changes or comes back', async () => {
    const store = new FileObjectStore(dir);
    const first = await recordServedEntities(store, demo, T0);
    expect(first.written).toBe(true);
    // A restart with the same configuration writes nothing.
    expect((await recordServedEntities(store, demo, T0 + HOUR)).written).toBe(false);
    const changed = await recordServedEntities(store, split, T0 + 2 * HOUR);
    expect(changed).toMatchObject({ written: true });
    expect(changed.configVersion).not.toBe(first.configVersion);
    const back = await recordServedEntities(store, demo, T0 + 3 * HOUR);
    expect(back).toMatchObject({ written: true, configVersion: first.configVersion });
    expect(await readdir(join(dir, SERVED_ENTITIES_HISTORY))).toHaveLength(3);

    const shadow = await query(`SELECT served_entity_name, traffic_percentage, configured_from, configured_until, active FROM served_entities WHERE served_entity_name = 'echo-shadow'`);
    expect(shadow).toEqual([{ served_entity_name: 'echo-shadow', traffic_percentage: 20, configured_from: '2026-11-01 10:00:00', configured_until: '2026-11-01 11:00:00', active: false }]);
    // The entity in every configuration: configured since the first, its latest traffic share.
    const main = await query(`SELECT traffic_percentage, configured_from, configured_until, active FROM served_entities WHERE endpoint = 'chat' AND served_entity_name = 'echo-1'`);
    expect(main).toEqual([{ traffic_percentage: 100, configured_from: '2026-11-01 08:00:00', configured_until: null, active: true }]);
    const history = await query(`SELECT count(DISTINCT applied_at) AS applications, count(DISTINCT config_version) AS versions FROM served_entities_history`);
    expect(history).toEqual([{ applications: 3, versions: 2 }]);
  });

  it('has one row per entity of every endpoint and classic-route model version, with ids the capture uses', () => {
    const rows = servedEntities(demo);
    const ids = new Set(rows.map((r) => r.served_entity_id));
    expect(ids.size).toBe(rows.length);
    const versions = demo.models.reduce((n, m) => n + m.versions.length, 0);
    const entities = demo.endpoints.reduce((n, e) => n + e.served_entities.length, 0);
    expect(rows.filter((r) => r.route === 'model')).toHaveLength(versions);
    expect(rows.filter((r) => r.route === 'endpoint')).toHaveLength(entities);
  });

  it('names what a backend calls, never its key', async () => {
    expect(backendTarget({ type: 'openai', base_url: 'https://api.example.com/v1', model: 'gpt-x', api_key: { env: 'SECRET_KEY_VAR' }, stream_usage: true, timeout_ms: 1000 })).toBe('gpt-x at https://api.example.com/v1');
    expect(backendTarget({ type: 'bedrock', model_id: 'anthropic.claude-3-haiku-20240307-v1:0', region: 'eu-west-1', timeout_ms: 1000 })).toBe('anthropic.claude-3-haiku-20240307-v1:0 in eu-west-1');
    const keyed = configWith((c) => {
      c.models.push({ name: 'gpt', versions: [{ version: '1', stage: 'Production', backend: { type: 'openai', base_url: 'https://api.example.com/v1', model: 'm', api_key: { secret: 'prod/openai-key' } } }] });
    });
    const store = new FileObjectStore(dir);
    const { key } = await recordServedEntities(store, keyed, T0);
    expect(await readFile(join(dir, key), 'utf8')).not.toContain('prod/openai-key');
  });

  it('is empty, with its columns, before the first configuration is recorded', async () => {
    expect(await query('SELECT count(*) AS n FROM served_entities')).toEqual([{ n: 0 }]);
    expect(await query('SELECT count(*) AS n FROM served_entities_history')).toEqual([{ n: 0 }]);
  });
});
