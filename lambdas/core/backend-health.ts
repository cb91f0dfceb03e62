import type { Backend } from './config/index.js';
import { asError } from './errors.js';
import type { BackendProbe, ModelBackend } from './ports.js';

/**
 * The deployment state of served entities, as Databricks reports it
 * (`served_entities[].state.deployment`), from two sources: the backend's own probe where it
 * has one (cached, so a dashboard polling the endpoint API does not hammer backends), and the
 * outcome of the real calls this process made. The newer evidence wins: a failing call after
 * a good probe fails the entity, a good probe after failing calls clears it (so an entity
 * nobody calls while it is failed still comes back). State is per process: each function
 * instance on AWS judges from its own calls.
 */

/** Databricks' deployment states that the proxy reports for a served entity. */
export type DeploymentStatus = 'DEPLOYMENT_READY' | 'DEPLOYMENT_FAILED';

/** A served entity's state, in the fields of Databricks' `served_entities[].state`. */
export interface DeploymentState {
  readonly deployment: DeploymentStatus;
  /** The cause and the fix, when failed. Never a local path. */
  readonly deployment_state_message?: string;
}

/** Options of {@link BackendHealth}. */
export interface BackendHealthOptions {
  /**
   * How long a probe's result is reused, in ms.
   * @default 15_000
   */
  readonly probeTtlMs?: number;
  /**
   * How long a probe may take before it counts as not ready, in ms.
   * @default 2_000
   */
  readonly probeTimeoutMs?: number;
  /**
   * Consecutive failed calls, with no success since, that fail an entity without a probe saying so.
   * @default 3
   */
  readonly failureThreshold?: number;
  /** The clock, in ms since the epoch. */
  readonly now?: () => number;
}

/** What a type of backend needs when it fails: the usual fix, in the words of the configuration. */
export const BACKEND_FIX: Readonly<Record<Backend['type'], string>> = {
  builtin: "check the proxy's log: a builtin model does not fail on its own",
  http: 'start the model server or fix backend.url in the configuration',
  bedrock: "check the model's access and quotas in the Bedrock console (the error names the cause), or fix backend.model_id or backend.region in the configuration",
  openai: 'check the external API and its key (its answer says why), or fix backend.base_url or backend.model in the configuration',
  lambda: "check the function's log and state, or fix backend.function_name in the configuration",
  sagemaker: 'check that the SageMaker endpoint is InService (its log says why it fails), or fix backend.endpoint_name in the configuration',
};

/** A URL as shown in a state message: without credentials, query or fragment, which may hold secrets. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

/** How a state message names a backend. */
function backendLabel(backend: Backend): string {
  switch (backend.type) {
    case 'builtin':
      return `The builtin model ${backend.model}`;
    case 'http':
      return `The backend ${displayUrl(`${backend.url.replace(/\/+$/, '')}/invocations`)}`;
    case 'bedrock':
      return `The Bedrock model ${backend.model_id}`;
    case 'openai':
      return `The external model ${backend.model} at ${displayUrl(backend.base_url)}`;
    case 'lambda':
      return `The Lambda backend ${backend.function_name}`;
    case 'sagemaker':
      return `The SageMaker endpoint ${backend.endpoint_name}`;
  }
}

/**
 * The cause of a failed call, without what the backend answered: error messages end with an
 * excerpt of the backend's output after `: ` (a stack trace may name its files).
 */
function causeOf(message: string): string {
  return (message.split(': ')[0] ?? '').replace(/\.$/, '').slice(0, 200);
}

/** The name of a thrown value, for a message; a hostile value (a Proxy whose traps throw) gets none. */
function nameOf(error: unknown): string {
  try {
    return asError(error).name.slice(0, 64);
  } catch {
    return 'an unnamed error';
  }
}

/** The calls of one entity: only the last outcome is kept, so memory is one entry per entity. */
interface Calls {
  failures: number;
  lastFailure: string;
  lastFailureAt: number;
  lastSuccessAt: number | undefined;
}

/** A probe's result and when it started (what a later failed call is compared with). */
type Probed = BackendProbe & { readonly at: number };

const READY: DeploymentState = { deployment: 'DEPLOYMENT_READY' };

/**
 * The health of served entities as seen by this process. Keys name an entity (use
 * {@link entityKey}); they come from the configuration, so the maps stay as small as it.
 *
 * @example
 * const health = new BackendHealth();
 * health.recordFailure(entityKey('iris', 'iris-2'), 'Model backend could not be reached: fetch failed');
 * const state = await health.deployment(entityKey('iris', 'iris-2'), backendConfig, () => backend);
 * // { deployment: 'DEPLOYMENT_READY' } until 3 calls in a row have failed, or the probe says otherwise
 */
export class BackendHealth {
  private readonly calls = new Map<string, Calls>();
  private readonly probes = new Map<string, { readonly at: number; readonly result: Promise<Probed | undefined> }>();
  private readonly ttlMs: number;
  private readonly timeoutMs: number;
  private readonly threshold: number;
  private readonly now: () => number;

  public constructor(options: BackendHealthOptions = {}) {
    this.ttlMs = options.probeTtlMs ?? 15_000;
    this.timeoutMs = options.probeTimeoutMs ?? 2_000;
    this.threshold = options.failureThreshold ?? 3;
    this.now = options.now ?? Date.now;
  }

  /** The backend answered (anything, the model's own 4xx included). */
  public recordSuccess(key: string): void {
    const calls = this.calls.get(key);
    if (calls) Object.assign(calls, { failures: 0, lastSuccessAt: this.now() });
    else this.calls.set(key, { failures: 0, lastFailure: '', lastFailureAt: 0, lastSuccessAt: this.now() });
  }

  /** The backend itself failed (BackendError, BackendTimeoutError); `message` is the error's. */
  public recordFailure(key: string, message: string): void {
    const calls = this.calls.get(key) ?? { failures: 0, lastFailure: '', lastFailureAt: 0, lastSuccessAt: undefined };
    Object.assign(calls, { failures: calls.failures + 1, lastFailure: causeOf(message), lastFailureAt: this.now() });
    this.calls.set(key, calls);
  }

  /**
   * The entity's state: failed when its probe says not ready, or when its last
   * `failureThreshold` calls failed and no probe since said ready. Never throws: a probe that
   * throws, hangs or cannot be built counts as not ready.
   * @param make the entity's backend (the handler's cached instance)
   */
  public async deployment(key: string, backend: Backend, make: () => ModelBackend): Promise<DeploymentState> {
    const probed = await this.probe(key, backend, make);
    if (probed && !probed.ready) return { deployment: 'DEPLOYMENT_FAILED', deployment_state_message: probed.message };
    const calls = this.calls.get(key);
    if (calls && calls.failures >= this.threshold && !(probed && probed.at > calls.lastFailureAt)) {
      const since = calls.lastSuccessAt === undefined ? 'none since this process started' : `the last at ${new Date(calls.lastSuccessAt).toISOString()}`;
      return {
        deployment: 'DEPLOYMENT_FAILED',
        deployment_state_message: `${backendLabel(backend)} failed on the last ${calls.failures} calls (${calls.lastFailure}; successes: ${since}): ${BACKEND_FIX[backend.type]}.`,
      };
    }
    return READY;
  }

  /** The cached probe of the entity, run anew once it is older than the TTL; undefined when the backend has none. */
  private probe(key: string, backend: Backend, make: () => ModelBackend): Promise<Probed | undefined> {
    const now = this.now();
    const cached = this.probes.get(key);
    if (cached && now - cached.at < this.ttlMs) return cached.result;
    // The promise is cached, not the result: concurrent reads share one probe.
    const result = this.runProbe(backend, make, now);
    this.probes.set(key, { at: now, result });
    return result;
  }

  private async runProbe(backend: Backend, make: () => ModelBackend, at: number): Promise<Probed | undefined> {
    let instance: ModelBackend;
    try {
      instance = make();
    } catch (error) {
      return { ready: false, message: `${backendLabel(backend)} could not be set up (${nameOf(error)}): ${BACKEND_FIX[backend.type]}.`, at };
    }
    if (!instance.probe) return undefined;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Bounded here too, whatever the probe does with its signal.
    const timeout = new Promise<BackendProbe>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ ready: false, message: `${backendLabel(backend)} did not answer its readiness check within ${this.timeoutMs} ms: ${BACKEND_FIX[backend.type]}.` });
      }, this.timeoutMs);
      timer.unref();
    });
    try {
      const { ready, message } = await Promise.race([instance.probe(controller.signal), timeout]);
      return { ready, message, at };
    } catch (error) {
      return { ready: false, message: `${backendLabel(backend)} could not be checked (${nameOf(error)}): ${BACKEND_FIX[backend.type]}.`, at };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The key of a served entity of an endpoint. */
export function entityKey(endpoint: string, servedName: string): string {
  return `${endpoint}/${servedName}`;
}
