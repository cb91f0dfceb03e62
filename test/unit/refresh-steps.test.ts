/**
 * The refresh step registry (`lambdas/core/refresh-steps.ts`) is the one list of steps: the
 * Lambda entry point exports a handler for each, the local runner binds each, and a state's
 * input is parsed with its step's schema at the edge.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readHealth } from '../../lambdas/core/health.js';
import { closeRun } from '../../lambdas/workflow/run-outcome.js';
import { REFRESH_STEPS, REFRESH_STEP_SPECS, StepInputError, parseStepInput } from '../../lambdas/core/refresh-steps.js';
import { ENV } from '../../lambdas/shared/env.js';
import { STEP_FUNCTIONS, bindSteps } from '../../lambdas/workflow/registry.js';
import { localRefreshDependencies } from '../../lambdas/wiring/local-refresh.js';
import { ROOT, demoConfig } from '../helpers/config.js';

describe('refresh step registry', () => {
  it('gives every step a function, and the entry point exports a handler for each under its registered name', async () => {
    expect(Object.keys(STEP_FUNCTIONS).sort()).toEqual([...REFRESH_STEPS].sort());
    vi.stubEnv(ENV.configFile, 'config/local.json');
    vi.stubEnv('LAMBDA_TASK_ROOT', ROOT);
    vi.stubEnv(ENV.dataBucket, 'bucket');
    vi.stubEnv(ENV.database, 'db');
    try {
      const entry = (await import('../../lambdas/entry/refresh.js')) as Record<string, unknown>;
      expect(Object.keys(entry).sort()).toEqual(REFRESH_STEPS.map((s) => REFRESH_STEP_SPECS[s].handler).sort());
      for (const name of Object.keys(entry)) expect(typeof entry[name]).toBe('function');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('names handlers, timeouts and memory once per step', () => {
    const handlers = REFRESH_STEPS.map((s) => REFRESH_STEP_SPECS[s].handler);
    expect(new Set(handlers).size).toBe(handlers.length);
    for (const s of REFRESH_STEPS) {
      expect(REFRESH_STEP_SPECS[s].timeoutMinutes).toBeLessThanOrEqual(15);
      expect(REFRESH_STEP_SPECS[s].memoryMb).toBeGreaterThanOrEqual(128);
    }
  });

  it('refuses a state input its step cannot use, naming the step and the field', async () => {
    expect(() => parseStepInput('UnpackTask', { run_id: 'r', endpoint: 'iris', task: '00000' })).toThrow(new StepInputError('UnpackTask got an input it cannot use: manifest: Invalid input: expected string, received undefined'));
    const steps = bindSteps(localRefreshDependencies(demoConfig(), '/nonexistent'));
    await expect(steps.Plan({ endpoints: 'iris' })).rejects.toThrow(/^Plan got an input it cannot use: endpoints: /);
    await expect(steps.FinishEndpoint({ run_id: 'r' })).rejects.toBeInstanceOf(StepInputError);
  });

  it('passes what later states add through (the commit and metrics of an endpoint run)', () => {
    const run = { run_id: 'r', started_at: 't', endpoint: 'iris', files: 1, tasks: 1, backlog: 0, commit: { statements: [] }, metrics: { windows: 2, alerts: 0, statements: [] } };
    expect(parseStepInput('FinishEndpoint', run)).toEqual(run);
  });
});

describe('the end of a run', () => {
  it('records and publishes the health of every endpoint it took, and fails the run when an endpoint failed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'it-close-'));
    try {
      const published: { name: string; value: number; dimensions: Record<string, string> }[] = [];
      const deps = { ...localRefreshDependencies(demoConfig(), dir), healthPublisher: { publish: async (d: readonly { name: string; value: number; dimensions: Record<string, string> }[]) => void published.push(...d) } };
      const ok = await closeRun(deps, { run_id: 'r', started_at: 't', reports: [{ endpoint: 'iris' }] });
      expect(ok).toMatchObject({ failed: false });
      expect(await readHealth(deps.store, 'iris')).toMatchObject({ endpoint: 'iris', status: 'ACTIVE' });
      expect(published.map((d) => [d.name, d.value, d.dimensions.Endpoint])).toEqual([
        ['TableHealth', 0, 'iris'],
        ['QuarantinedFiles', 0, 'iris'],
      ]);
      const failed = await closeRun(deps, { run_id: 'r', started_at: 't', reports: [{ endpoint: 'iris' }, { endpoint: 'chat', failed: true, cause: 'engine down' }] });
      expect(failed).toMatchObject({ failed: true, error: 'EndpointsFailed', cause: "chat: engine down. iris was refreshed; the failed endpoints' files are taken again by the next run." });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
