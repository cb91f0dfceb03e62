import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { FileServingStateStore, ServingStateFileError } from '../../lambdas/adapters/local/serving-state-file.js';
import { createVersion, deleteAlias, putEndpointConfig, setAlias, transitionStage } from '../../lambdas/core/serving-changes.js';
import { SeedMismatchError, type ServingStateStore, ServingStateCache, StateConflictError, applyChange, seedServingState } from '../../lambdas/core/serving-state.js';
import type { ObjectStore } from '../../lambdas/core/ports.js';
import { configWith } from '../helpers/config.js';

const config = configWith(() => undefined);
let dir: string;
let store: FileServingStateStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'serving-state-'));
  store = new FileServingStateStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = (caller = 'tester') => ({ config, store, history: new FileObjectStore(dir), caller, action: 'test' });
const production = (c: { models: typeof config.models }) => c.models.find((m) => m.name === 'iris-classifier')?.versions.filter((v) => v.stage === 'Production').map((v) => v.version);

describe('the serving state', () => {
  it('starts from the configuration file, and each change is the next version, saved and recorded', async () => {
    const first = await applyChange(ctx(), transitionStage({ name: 'iris-classifier', version: '3', stage: 'Production', archive_existing_versions: true }));
    expect(first.state).toMatchObject({ config_version: 2, updated_by: 'tester' });
    expect(production(first.config)).toEqual(['3']);
    const second = await applyChange(ctx('other'), setAlias({ name: 'iris-classifier', alias: 'champion', version: '3' }));
    expect(second.state.config_version).toBe(3);
    expect((await store.load())?.models.find((m) => m.name === 'iris-classifier')?.aliases.champion).toBe('3');
  });

  it('makes one of two changes sent at once, and refuses the other as a conflict', async () => {
    await seedServingState(config, store, Date.now());
    const results = await Promise.allSettled([
      applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'one', version: '2' })),
      applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'two', version: '3' })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(StateConflictError);
    expect((await store.load())?.config_version).toBe(2);
  });

  it('refuses a write over a version it did not read: a change made meanwhile is never lost', async () => {
    await applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'a', version: '2' }));
    const stale = (await store.load())!;
    await applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'b', version: '2' }));
    await expect(store.save({ ...stale, config_version: stale.config_version + 1 }, stale.config_version)).rejects.toThrow(StateConflictError);
  });

  it('is replaced by the configuration file when its models or endpoints changed, and kept when they did not', async () => {
    await applyChange(ctx(), transitionStage({ name: 'iris-classifier', version: '3', stage: 'Production', archive_existing_versions: true }));
    const kept = await seedServingState(config, store, Date.now());
    expect(kept.replaced).toBe(false);
    expect(production(kept.config)).toEqual(['3']);
    const edited = configWith((c) => (c.models[0].aliases = { champion: '2' }));
    const replaced = await seedServingState(edited, store, Date.now());
    expect(replaced).toMatchObject({ replaced: true, version: 3 });
    expect(production(replaced.config)).toEqual(['2']);
  });

  it('keeps the runtime changes when the file changed only what the runtime does not change (a drift threshold)', async () => {
    await applyChange(ctx(), transitionStage({ name: 'iris-classifier', version: '3', stage: 'Production', archive_existing_versions: true }));
    const tuned = configWith((c) => (c.endpoints[0].monitoring = { drift: { min_samples: 7 } }));
    const kept = await seedServingState(tuned, store, Date.now());
    expect(kept.replaced).toBe(false);
    expect(production(kept.config)).toEqual(['3']);
    // The file's other fields are in force over the stored state.
    expect(kept.config.endpoints[0]?.monitoring.drift.min_samples).toBe(7);
  });

  it('refuses a change made with another file than the one the state grew from, and serves the file in force meanwhile', async () => {
    await seedServingState(config, store, Date.now());
    const other = configWith((c) => (c.models[0].aliases = { champion: '3' }));
    await expect(applyChange({ ...ctx(), config: other }, setAlias({ name: 'iris-classifier', alias: 'x', version: '2' }))).rejects.toThrow(SeedMismatchError);
    await applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'x', version: '2' }));
    const served = await new ServingStateCache(other, store, 0).get();
    expect(served.config.models[0]?.aliases).toEqual({ champion: '3' });
  });

  it('stores the seeded state at the first start, so later changes grow from it', async () => {
    expect(await store.load()).toBeUndefined();
    await seedServingState(config, store, Date.now());
    expect((await store.load())?.config_version).toBe(1);
  });

  it('keeps a change made when its history cannot be written, and says so in the log', async () => {
    const broken = { ...new FileObjectStore(dir), list: async () => [], put: async () => Promise.reject(new Error('bucket unreachable')) } as unknown as ObjectStore;
    const { state } = await applyChange({ ...ctx(), history: broken }, setAlias({ name: 'iris-classifier', alias: 'a', version: '2' }));
    expect(state.config_version).toBe(2);
    expect((await store.load())?.config_version).toBe(2);
  });

  it('refuses a traffic split that routes an entity twice, an alias that is not there, and two protocols on one endpoint', async () => {
    const twice = putEndpointConfig('iris', { traffic_config: { routes: [{ served_model_name: 'iris-classifier-2', traffic_percentage: 60 }, { served_model_name: 'iris-classifier-2', traffic_percentage: 40 }] } });
    await expect(applyChange(ctx(), twice)).rejects.toThrow(/routed twice/);
    await expect(applyChange(ctx(), deleteAlias({ name: 'iris-classifier', alias: 'toString' }))).rejects.toThrow(/alias toString not found/);
    const mixed = putEndpointConfig('iris', {
      served_entities: [
        { entity_name: 'iris-classifier', entity_version: '3' },
        { entity_name: 'iris-classifier', entity_version: '4' },
      ],
      traffic_config: { routes: [{ served_model_name: 'iris-classifier-3', traffic_percentage: 50 }, { served_model_name: 'iris-classifier-4', traffic_percentage: 50 }] },
    });
    await expect(applyChange(ctx(), mixed)).rejects.toThrow(/both scoring protocols/);
    expect(await store.load()).toBeUndefined();
  });

  it('refuses, on a deployment, a version whose backend its functions were not granted', async () => {
    const deployed = { ...ctx(), deployedBackends: config.models.flatMap((m) => m.versions.map((v) => v.backend)) };
    const lambda = createVersion({ name: 'iris-classifier', backend: { type: 'lambda', function_name: 'not-deployed', timeout_ms: 5000 }, scoring_protocol: 'mlflow2' });
    await expect(applyChange(deployed, lambda)).rejects.toThrow(/may not call Lambda function not-deployed\. Add the version to the configuration file and deploy/);
    const keyed = createVersion({ name: 'iris-classifier', backend: { type: 'openai', base_url: 'https://api.example.com/v1', model: 'm', api_key: { env: 'KEY' }, stream_usage: true, timeout_ms: 5000 }, scoring_protocol: 'mlflow2' });
    await expect(applyChange(deployed, keyed)).rejects.toThrow(/environment variable KEY, which a deployed function does not have/);
    // Built-in and HTTP backends need no grant; locally nothing is checked.
    await applyChange(deployed, createVersion({ name: 'iris-classifier', backend: { type: 'builtin', model: 'iris' }, scoring_protocol: 'mlflow2' }));
    await applyChange(ctx(), lambda);
  });

  it('names the file and the fix when it cannot be read', async () => {
    await mkdir(join(dir, '_serving'), { recursive: true });
    await writeFile(join(dir, '_serving', 'state.json'), '{"config_version": "two"');
    await expect(store.load()).rejects.toThrow(ServingStateFileError);
    await expect(store.load()).rejects.toThrow(/state\.json is not JSON .*delete it to serve the configuration file/);
  });
});

describe('the cache the scoring function reads through', () => {
  it('reads the store at most once per TTL, and keeps the last state when a read fails', async () => {
    let reads = 0;
    let fail = false;
    let clock = 0;
    const counting: ServingStateStore = {
      load: async () => {
        reads++;
        if (fail) throw new Error('store down');
        return store.load();
      },
      save: (next, expected) => store.save(next, expected),
    };
    const cache = new ServingStateCache(config, counting, 5000, () => clock);
    expect((await cache.get()).version).toBe(1);
    await cache.get();
    expect(reads).toBe(1);
    await applyChange(ctx(), setAlias({ name: 'iris-classifier', alias: 'a', version: '2' }));
    expect((await cache.get()).version).toBe(1);
    clock = 5000;
    expect((await cache.get()).version).toBe(2);
    fail = true;
    clock = 10_000;
    expect((await cache.get()).version).toBe(2);
  });
});
