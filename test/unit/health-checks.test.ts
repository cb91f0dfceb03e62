import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { checkEndpoint } from '../../lambdas/workflow/health.js';
import { stateKey } from '../../lambdas/workflow/paths.js';
import { demoConfig } from '../helpers/config.js';

const config = demoConfig();
let dir: string;
let store: FileObjectStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-health-'));
  store = new FileObjectStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The `refresh-schedule` check as `doctor` runs it, `minutes` after the last successful refresh. */
async function schedule(minutes: number, refresh = config.refresh) {
  const now = new Date(Date.now() + minutes * 60_000);
  const health = await checkEndpoint({ config: { ...config, refresh }, store, dialect: 'duckdb', now: () => now }, 'iris', { schedule: true });
  return health.checks.find((c) => c.check === 'refresh-schedule');
}

describe('the refresh-schedule check', () => {
  it('is content before the first refresh', async () => {
    expect(await schedule(10_000)).toMatchObject({ status: 'ACTIVE', message: 'iris has had no refresh yet.' });
  });

  it('is DEGRADED once no refresh succeeded for two intervals, naming how to see why', async () => {
    await store.put(stateKey('iris'), '{}');
    const every = config.refresh.schedule_minutes;
    expect(await schedule(2 * every)).toMatchObject({ status: 'ACTIVE' });
    expect(await schedule(2 * every + 5)).toMatchObject({
      status: 'DEGRADED',
      message: `No successful refresh of iris for ${2 * every + 5} min, though one is scheduled every ${every} min: the schedule is not running or every run fails. Run inference-tables refresh to see why.`,
    });
    // A schedule turned off is not late.
    expect(await schedule(10_000, { ...config.refresh, enabled: false })).toMatchObject({ status: 'ACTIVE' });
  });

  it('runs the coverage check only when given a query engine', async () => {
    const health = await checkEndpoint({ config, store, dialect: 'duckdb' }, 'iris', { schedule: true });
    expect(health.checks.map((c) => c.check)).not.toContain('payload-coverage');
  });
});
