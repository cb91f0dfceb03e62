import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { FileServingStateStore, ServingStateFileError } from '../../lambdas/adapters/local/serving-state-file.js';
import { setAlias, transitionStage } from '../../lambdas/core/serving-changes.js';
import { type ServingStateStore, ServingStateCache, StateConflictError, applyChange, seedServingState } from '../../lambdas/core/serving-state.js';
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
