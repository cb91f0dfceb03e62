import { z } from 'zod';
import { type Backend, type Config, ConfigError, endpointSchema, parseConfig, registeredModelSchema } from './config/index.js';
import { ScoringError } from './errors.js';
import { log } from './log.js';
import type { ObjectStore } from './ports.js';
import { stableId } from './hash.js';
import { recordServedEntities } from './served-entities.js';

/**
 * What is served and captured, as state that changes at runtime (the MLflow registry's stages
 * and aliases, an endpoint's served entities, traffic and capture settings), seeded from the
 * configuration file and changed through the management APIs and the CLI. Every change is
 * checked whole against the configuration's rules (a change that breaks one is refused with
 * the field named), gets the next `config_version`, is appended to the served-entities
 * history, and is logged with its caller. The scoring function reads it through a cache with
 * a short TTL, so a change is live everywhere within that TTL, without a redeploy or restart.
 */

/** The state, as stored (a file under the data folder locally, one DynamoDB item on AWS). */
export const servingStateSchema = z.object({
  /** 1 for the configuration file's state, then one more per change. */
  config_version: z.int().min(1),
  updated_at: z.string(),
  /** Who made the last change (the requester of the management call, or the CLI's user). */
  updated_by: z.string(),
  /** The version of the configuration file's models and endpoints this state grew from. */
  seed: z.string(),
  models: z.array(registeredModelSchema),
  endpoints: z.array(endpointSchema),
});
export type ServingState = z.infer<typeof servingStateSchema>;

/**
 * What the runtime changes of the models and endpoints: versions, stages and aliases, served
 * entities and traffic, capture on or off and its fraction. The rest (monitoring, redaction,
 * limits) always comes from the configuration file.
 */
function runtimePart(c: Pick<ServingState, 'models' | 'endpoints'>) {
  return {
    models: c.models.map((m) => ({ name: m.name, versions: m.versions, aliases: m.aliases })),
    endpoints: c.endpoints.map((e) => ({ name: e.name, served_entities: e.served_entities, enabled: e.capture.enabled, sampling_fraction: e.capture.sampling_fraction })),
  };
}

/**
 * The version of what a configuration file says of the runtime's part: a deploy or start that
 * changed it replaces the state; one that changed only the rest (a drift threshold) keeps it.
 */
export function seedOf(config: Pick<Config, 'models' | 'endpoints'>): string {
  return stableId(JSON.stringify(runtimePart(config))).slice(0, 16);
}

/** Where the state is kept; `save` writes only over the version it was read at. */
export interface ServingStateStore {
  /** The stored state, or undefined before the first change. */
  load(): Promise<ServingState | undefined>;
  /**
   * Writes `next` if the stored state is still at `expected` (undefined: none stored yet).
   * @throws StateConflictError when another change came first
   */
  save(next: ServingState, expected: number | undefined): Promise<void>;
}

/** Another change was saved between the read and the write of this one (409). */
export class StateConflictError extends ScoringError {
  public constructor(expected: number | undefined) {
    super('RESOURCE_CONFLICT', `The serving configuration changed since version ${expected ?? 1} was read; read it again and retry.`);
    this.name = 'StateConflictError';
  }
}

/** The configuration file's state: version 1. */
export function initialState(config: Config, at = new Date(0)): ServingState {
  return { config_version: 1, updated_at: at.toISOString(), updated_by: 'configuration file', seed: seedOf(config), models: config.models, endpoints: config.endpoints };
}

/**
 * The configuration with the state's models and endpoints, checked by every rule of the
 * configuration file (traffic adding up to 100, aliases naming versions, backend timeouts…).
 * @throws ConfigError naming each field a change broke
 */
export function configWithState(config: Config, state: Pick<ServingState, 'models' | 'endpoints'>): Config {
  // The state's runtime part over the file's models and endpoints, which hold everything else.
  const models = state.models.map((m) => {
    const file = config.models.find((f) => f.name === m.name);
    return file ? { ...file, versions: m.versions, aliases: m.aliases } : m;
  });
  const endpoints = state.endpoints.map((e) => {
    const file = config.endpoints.find((f) => f.name === e.name);
    return file ? { ...file, served_entities: e.served_entities, capture: { ...file.capture, enabled: e.capture.enabled, sampling_fraction: e.capture.sampling_fraction } } : e;
  });
  return parseConfig({ ...config, models, endpoints }, 'the serving configuration');
}

/** The serving state grew from another configuration file than the one in force (a deploy or start is under way). */
export class SeedMismatchError extends ScoringError {
  public constructor() {
    super(
      'INVALID_STATE',
      "The serving state grew from another configuration file's models and endpoints than this one: deploy (or restart the server with) this configuration first, or change the state with the file it was deployed with.",
      { status: 409 },
    );
    this.name = 'SeedMismatchError';
  }
}

/** A change: what it does to the models and endpoints; it throws a ScoringError to refuse. */
export type ServingChange = (state: Readonly<Pick<ServingState, 'models' | 'endpoints'>>) => Pick<ServingState, 'models' | 'endpoints'>;

/** What applying a change needs. */
export interface ChangeContext {
  readonly config: Config;
  readonly store: ServingStateStore;
  /** Where the served-entities history is appended. */
  readonly history: ObjectStore;
  readonly caller: string;
  /** What the change is, for the log: `transition-stage iris-classifier 3 Production`. */
  readonly action: string;
  readonly now?: () => number;
  /**
   * On AWS, the backends the deployment granted (its functions may call only those): a change
   * that would serve another one that needs a grant is refused, naming the fix.
   */
  readonly deployedBackends?: readonly Backend[];
}

/** What a deployed function must be granted to call a backend; null when it needs no grant. */
function grantNeeded(b: Backend): string | null {
  switch (b.type) {
    case 'lambda':
      return `Lambda function ${b.function_name}`;
    case 'sagemaker':
      return `SageMaker endpoint ${b.endpoint_name}${b.region ? ` in ${b.region}` : ''}`;
    case 'bedrock':
      return `Bedrock model ${b.model_id}${b.region ? ` in ${b.region}` : ''}`;
    case 'openai':
      if (!b.api_key) return null;
      return 'secret' in b.api_key ? `the secret ${b.api_key.secret}` : `the environment variable ${b.api_key.env}, which a deployed function does not have`;
    default:
      return null;
  }
}

/** The backends of a change a deployment cannot call: each named. */
function ungranted(config: Config, deployed: readonly Backend[]): string[] {
  const granted = new Set(deployed.map(grantNeeded));
  return [...new Set(config.models.flatMap((m) => m.versions.map((v) => grantNeeded(v.backend))))].filter((g): g is string => g !== null && !granted.has(g));
}

/**
 * Applies a change over the stored state (or the configuration file's, before the first),
 * checks the result whole, saves it as the next version, and records it.
 * @throws ScoringError from the change, InvalidRequestError for a result the rules refuse,
 * StateConflictError when another change came first
 */
export async function applyChange(ctx: ChangeContext, change: ServingChange): Promise<{ state: ServingState; config: Config }> {
  const stored = await ctx.store.load();
  if (stored && stored.seed !== seedOf(ctx.config)) throw new SeedMismatchError();
  const current = stored ?? initialState(ctx.config);
  const next = change({ models: current.models, endpoints: current.endpoints });
  let config: Config;
  try {
    config = configWithState(ctx.config, next);
  } catch (error) {
    if (error instanceof ConfigError) throw new ScoringError('INVALID_PARAMETER_VALUE', `The change was refused: ${error.message.replace(/^Invalid configuration in the serving configuration:\n\s*/, '').replace(/\n\s*/g, '; ')}`, { cause: error });
    throw error;
  }
  const missing = ctx.deployedBackends ? ungranted(config, ctx.deployedBackends) : [];
  if (missing.length > 0) {
    throw new ScoringError('INVALID_PARAMETER_VALUE', `The change was refused: the deployed functions may not call ${missing.join(', ')}. Add the version to the configuration file and deploy, which grants it.`);
  }
  const now = (ctx.now ?? Date.now)();
  const state: ServingState = { config_version: current.config_version + 1, updated_at: new Date(now).toISOString(), updated_by: ctx.caller, seed: current.seed, models: config.models, endpoints: config.endpoints };
  await ctx.store.save(state, stored?.config_version);
  // The change is made: a history that cannot be written is logged loudly, never answered as a
  // failure a client would retry (and so make twice).
  try {
    const recorded = await recordServedEntities(ctx.history, config, now, { changedBy: ctx.caller });
    log('info', 'serving configuration changed', { action: ctx.action, caller: ctx.caller, configVersion: state.config_version, historyKey: recorded.key });
  } catch (error) {
    log('error', 'serving configuration changed, but its history could not be written: served_entities misses this version until the next change or deploy', {
      action: ctx.action,
      caller: ctx.caller,
      configVersion: state.config_version,
      error: error as Error,
    });
  }
  return { state, config };
}

/**
 * Seeds the state from the configuration file at a deploy or start: a stored state that grew
 * from other models and endpoints is replaced by the file's (as the next version, recorded and
 * logged); one that grew from these keeps its runtime changes.
 * @returns the configuration in force
 */
export async function seedServingState(config: Config, store: ServingStateStore, now: number): Promise<{ config: Config; version: number; replaced: boolean }> {
  const stored = await store.load();
  if (!stored) {
    // Stored from the start, so a change made later (the CLI with --env) grows from what is deployed.
    await store.save(initialState(config, new Date(now)), undefined);
    return { config, version: 1, replaced: false };
  }
  if (stored.seed === seedOf(config)) return { config: configWithState(config, stored), version: stored.config_version, replaced: false };
  const state: ServingState = { ...initialState(config, new Date(now)), config_version: stored.config_version + 1 };
  await store.save(state, stored.config_version);
  log('warn', 'the configuration file changed its models or endpoints: they replace the serving state, runtime changes included', { configVersion: state.config_version, replacedVersion: stored.config_version });
  return { config, version: state.config_version, replaced: true };
}

/**
 * The current configuration for the scoring path, read through a cache: the stored state is
 * read at most once per `ttlMs`. A read that fails keeps the last state known and is logged
 * (a store that cannot be read must not stop scoring), until the state is read again.
 */
export class ServingStateCache {
  private current: { config: Config; version: number } | undefined;
  private readAt = -Infinity;
  private pending: Promise<void> | undefined;

  public constructor(
    private readonly config: Config,
    private readonly store: ServingStateStore,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The configuration in force, and its version. */
  public async get(): Promise<{ config: Config; version: number }> {
    if (this.current && this.now() - this.readAt < this.ttlMs) return this.current;
    this.pending ??= this.refresh().finally(() => (this.pending = undefined));
    await this.pending;
    return this.current ?? { config: this.config, version: 1 };
  }

  private async refresh(): Promise<void> {
    try {
      const state = await this.store.load();
      if (!state) this.current = { config: this.config, version: 1 };
      else if (state.seed !== seedOf(this.config)) {
        // A deploy or start with another file is seeding the state: this file's, until it has.
        if (this.current?.config !== this.config) log('warn', 'the serving state grew from another configuration file; serving this one until it is seeded', { configVersion: state.config_version });
        this.current = { config: this.config, version: state.config_version };
      } else if (state.config_version !== this.current?.version) this.current = { config: configWithState(this.config, state), version: state.config_version };
      this.readAt = this.now();
    } catch (error) {
      log('error', 'the serving configuration could not be read; the last one read stays in force', { error: error as Error, configVersion: this.current?.version ?? 1 });
      // Retried at the next call after a second, not at every call.
      this.readAt = this.now() - Math.max(0, this.ttlMs - 1000);
    }
  }
}

/** The serving state as the scoring function and the management API use it. */
export interface ServingControl {
  /** The configuration in force and its version, through the cache. */
  current(): Promise<{ config: Config; version: number }>;
  /** The state as stored now (the configuration file's before the first change). */
  state(): Promise<ServingState>;
  /** Applies a change made by `caller` (see {@link applyChange}). */
  apply(change: ServingChange, caller: string, action: string): Promise<{ state: ServingState; config: Config }>;
}

/** The control over a store: reads through a cache of `ttlMs`, changes appended to `history`. */
export function servingControl(config: Config, store: ServingStateStore, history: ObjectStore, ttlMs: number, options: { now?: () => number; deployed?: boolean } = {}): ServingControl {
  const cache = new ServingStateCache(config, store, ttlMs);
  // A deployment's functions may call only the backends of the file it was deployed with.
  const deployedBackends = options.deployed ? config.models.flatMap((m) => m.versions.map((v) => v.backend)) : undefined;
  return {
    current: () => cache.get(),
    state: async () => (await store.load()) ?? initialState(config),
    apply: (change, caller, action) => applyChange({ config, store, history, caller, action, ...(options.now ? { now: options.now } : {}), ...(deployedBackends ? { deployedBackends } : {}) }, change),
  };
}
