import { HEALTH_STATUSES } from '../core/health.js';
import { log } from '../core/log.js';
import { HealthMetric, MetricDimension } from '../core/metric-names.js';
import type { CloseRunInput, EndpointFailureInput, FailureInput } from '../core/refresh-steps.js';
import { recordHealth } from './health.js';
import { REFRESH_ROOT, type RefreshDeps, endpointFailureKey, runPrefix, writeJson } from './steps.js';

/**
 * How a run ends: an endpoint whose commit failed is recorded and the others go on; a run
 * with a failed endpoint fails once the others committed; a run that failed before any
 * commit is recorded whole.
 */

/** The report of an endpoint whose commit failed. */
export interface FailedEndpointReport {
  readonly endpoint: string;
  readonly failed: true;
  readonly error: string;
  readonly cause: string;
  readonly files: number;
}

/** What a state's catch hands on: Step Functions' `Cause` is JSON text of the error; its message is what a person reads. */
function causeText(cause: unknown): string {
  if (typeof cause !== 'string') return JSON.stringify(cause ?? null);
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/**
 * The catch of one endpoint's commit: records the failure (read by the table's health), and
 * reports the endpoint failed. Its watermarks stay where they were, so its files are taken
 * again by the next run; the staged files of this run are removed.
 */
export async function endpointFailed(deps: RefreshDeps, input: EndpointFailureInput): Promise<FailedEndpointReport> {
  const error = input.error?.Error ?? 'Unknown';
  const cause = causeText(input.error?.Cause);
  const failure = { run_id: input.run_id, endpoint: input.endpoint, error, cause, at: (deps.now?.() ?? new Date()).toISOString() };
  await writeJson(deps.store, endpointFailureKey(input.endpoint), failure);
  const prefix = runPrefix(input.run_id, input.endpoint);
  await deps.store.delete((await deps.store.list(prefix)).map((o) => o.key));
  await writeJson(deps.store, `${prefix}failure.json`, failure);
  log('error', 'an endpoint of the refresh failed; the others go on', { run: input.run_id, endpoint: input.endpoint, error, cause });
  return { endpoint: input.endpoint, failed: true, error, cause, files: input.files };
}

/**
 * The run's outcome: records the health of every endpoint it took (read by the endpoint API),
 * and says whether an endpoint failed (the definition then fails the run, naming it).
 */
export async function closeRun(deps: RefreshDeps, input: CloseRunInput): Promise<{ run_id: string; started_at: string; reports: unknown[]; failed: boolean; error?: string; cause?: string }> {
  const now = deps.now?.() ?? new Date();
  for (const r of input.reports) {
    try {
      const health = await recordHealth(deps, r.endpoint, { schedule: false });
      const quarantine = health.checks.find((c) => c.check === 'quarantine');
      const dimensions = { [MetricDimension.endpoint]: r.endpoint };
      await deps.healthPublisher?.publish([
        { name: HealthMetric.tableHealth, value: HEALTH_STATUSES.indexOf(health.status), timestamp: now, dimensions, unit: 'None' },
        { name: HealthMetric.quarantinedFiles, value: quarantine?.count ?? 0, timestamp: now, dimensions, unit: 'Count' },
      ]);
    } catch (error) {
      // The run's outcome stands; the health stays as the last check recorded it, and doctor tells.
      log('error', 'could not record the health of an endpoint', { run: input.run_id, endpoint: r.endpoint, error });
    }
  }
  const failed = input.reports.filter((r) => r.failed);
  const base = { run_id: input.run_id, started_at: input.started_at, reports: input.reports };
  if (failed.length === 0) return { ...base, failed: false };
  const ok = input.reports.filter((r) => !r.failed).map((r) => r.endpoint);
  const cause = `${failed.map((r) => `${r.endpoint}: ${r.cause ?? r.error ?? 'failed'}`).join('; ')}. ${ok.length ? `${ok.join(', ')} ${ok.length === 1 ? 'was' : 'were'} refreshed; ` : ''}the failed endpoints' files are taken again by the next run.`;
  return { ...base, failed: true, error: 'EndpointsFailed', cause };
}

/** The catch of the workflow: records why the run failed. Watermarks stay where they were. */
export async function recordFailure(deps: RefreshDeps, input: FailureInput): Promise<{ run_id: string | null; error: string; cause: string }> {
  const cause = typeof input.error?.Cause === 'string' ? input.error.Cause : JSON.stringify(input.error?.Cause ?? null);
  const failure = { run_id: input.run_id ?? null, error: input.error?.Error ?? 'Unknown', cause, at: (deps.now?.() ?? new Date()).toISOString() };
  await writeJson(deps.store, `${REFRESH_ROOT}/last-failure.json`, failure);
  if (input.run_id) await writeJson(deps.store, `${REFRESH_ROOT}/runs/${input.run_id}/failure.json`, failure);
  return failure;
}
