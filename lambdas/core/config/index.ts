import { z } from 'zod';
import { fieldPath } from '../field-path.js';
import { UNROUTED_ENDPOINT, isValidName, tableName } from '../names.js';
import { deliverySchema } from './delivery.js';
import { WHOLE_ANSWER_SECONDS, deploymentSchema } from './deployment.js';
import { localServerSchema } from './local.js';
import { endpointSchema, nameSchema, registeredModelSchema, servedName } from './models.js';
import { type MonitoringSettings, monitoringSchema } from './monitoring.js';
import { refreshSchema } from './refresh.js';
import { retentionSchema } from './retention.js';
import { UserFacingError } from '../../shared/errors.js';

/**
 * One configuration per environment (`config/<env>.json`), read by `cdk synth` and by the
 * local stack alike: the domain's vocabulary, schemas only (reading the file is the wiring's
 * job, `lambdas/wiring/config-file.ts`). Split by concern: what is served (`models.ts`), what
 * is captured (`capture.ts`), how it is delivered (`delivery.ts`), monitored
 * (`monitoring.ts`) and refreshed (`refresh.ts`), how it is deployed (`deployment.ts`), and the
 * local server (`local.ts`).
 */

export * from './capture.js';
export * from './delivery.js';
export * from './deployment.js';
export * from './local.js';
export * from './models.js';
export * from './monitoring.js';
export * from './refresh.js';
export * from './retention.js';

const baseConfigSchema = z.strictObject({
  /** Environment name: `local`, `dev`, `prod`, … */
  environment: nameSchema,
  /** Glue database of the environment's tables. */
  database: z.string().regex(/^[a-z0-9_]{1,255}$/).optional(),
  /**
   * JSONPath expressions redacted on every capture path, whatever the endpoint: added to each
   * endpoint's and model's own `capture.redact_paths`.
   */
  redact_paths: z.array(z.string().startsWith('$')).default([]),
  delivery: deliverySchema.prefault({}),
  models: z.array(registeredModelSchema).default([]),
  endpoints: z.array(endpointSchema).default([]),
  refresh: refreshSchema.prefault({}),
  retention: retentionSchema.prefault({}),
  deployment: deploymentSchema.prefault({}),
  local: localServerSchema.prefault({}),
  serving: z
    .strictObject({
      /**
       * Seconds the scoring function keeps the serving state it read (registry stages and
       * aliases, endpoint traffic and capture) before reading it again: a change through the
       * management API or the CLI is live everywhere within this time.
       */
      state_ttl_seconds: z.number().min(0).max(300).default(5),
    })
    .prefault({}),
});

/** The environment configuration schema, with its cross-field rules. */
export const configSchema = baseConfigSchema.superRefine((cfg, ctx) => {
  const models = new Map(cfg.models.map((m) => [m.name, m]));
  const tables = new Map<string, string>();
  const claim = (owner: string, n: string, path: (string | number)[]) => {
    if (n === UNROUTED_ENDPOINT) {
      ctx.addIssue({ code: 'custom', path, message: `'${UNROUTED_ENDPOINT}' is reserved for requests to unknown endpoints` });
      return;
    }
    if (!isValidName(n)) return; // already reported by the field's own pattern
    const table = tableName(n, 'payload');
    const other = tables.get(table);
    if (other) ctx.addIssue({ code: 'custom', path, message: `table ${table} would be shared by ${other} and ${owner}` });
    else tables.set(table, owner);
  };
  cfg.models.forEach((m, i) => {
    claim(`model '${m.name}'`, m.name, ['models', i, 'name']);
    const versions = new Set<string>();
    m.versions.forEach((v, j) => {
      if (versions.has(v.version)) ctx.addIssue({ code: 'custom', path: ['models', i, 'versions', j, 'version'], message: `duplicate version ${v.version}` });
      versions.add(v.version);
    });
    for (const [alias, version] of Object.entries(m.aliases)) {
      if (!versions.has(version)) ctx.addIssue({ code: 'custom', path: ['models', i, 'aliases', alias], message: `alias points to unknown version ${version}` });
    }
  });
  const { api, scoring_function: fn } = cfg.deployment;
  if (api.authorization === 'none' && api.api_keys.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['deployment', 'api', 'api_keys'], message: "authorization 'none' needs at least one API key; the API is never left open" });
  }
  const keyNames = new Set<string>();
  api.api_keys.forEach((k, i) => {
    if (keyNames.has(k.name)) ctx.addIssue({ code: 'custom', path: ['deployment', 'api', 'api_keys', i, 'name'], message: `duplicate API key name ${k.name}` });
    keyNames.add(k.name);
  });
  if (fn.reserved_concurrency !== undefined && fn.provisioned_concurrency !== undefined && fn.provisioned_concurrency > fn.reserved_concurrency) {
    ctx.addIssue({ code: 'custom', path: ['deployment', 'scoring_function', 'provisioned_concurrency'], message: 'cannot exceed reserved_concurrency' });
  }
  // A backend must give up before the function does (and before API Gateway, for a whole
  // answer), leaving the capture its whole budget (retries, then the spill): a slow model's
  // request is still captured, never cut off.
  const backendBudgetMs = Math.min(fn.timeout_seconds, WHOLE_ANSWER_SECONDS) * 1000 - cfg.delivery.retry_budget_ms - cfg.delivery.spill_timeout_ms;
  cfg.models.forEach((m, i) =>
    m.versions.forEach((v, j) => {
      if (v.backend.type !== 'builtin' && v.backend.timeout_ms > backendBudgetMs) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', i, 'versions', j, 'backend', 'timeout_ms'],
          message: `must be at most ${backendBudgetMs} (deployment.scoring_function.timeout_seconds less delivery.retry_budget_ms and delivery.spill_timeout_ms, the most capture may take)`,
        });
      }
    }),
  );
  cfg.endpoints.forEach((e, i) => {
    claim(`endpoint '${e.name}'`, e.name, ['endpoints', i, 'name']);
    const total = e.served_entities.reduce((s, x) => s + x.traffic_percentage, 0);
    if (total !== 100) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'served_entities'], message: `traffic_percentage must add up to 100, got ${total}` });
    const names = new Set<string>();
    e.served_entities.forEach((s, j) => {
      const n = servedName(s);
      if (names.has(n)) ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'served_entities', j, 'name'], message: `duplicate served entity name ${n}` });
      names.add(n);
      const model = models.get(s.entity_name);
      if (!model) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'served_entities', j, 'entity_name'], message: `unknown registered model '${s.entity_name}'` });
      } else if (!model.versions.some((v) => v.version === s.entity_version)) {
        ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'served_entities', j, 'entity_version'], message: `model '${s.entity_name}' has no version ${s.entity_version}` });
      }
    });
    // The body is read by the protocol of the entity chosen: every entity of an endpoint must read it alike.
    const protocols = new Set(e.served_entities.map((s) => models.get(s.entity_name)?.versions.find((v) => v.version === s.entity_version)?.scoring_protocol ?? 'mlflow2'));
    if (protocols.size > 1) {
      ctx.addIssue({ code: 'custom', path: ['endpoints', i, 'served_entities'], message: 'serves versions of both scoring protocols (mlflow1 and mlflow2): a caller could not know which body to send; serve them on separate endpoints' });
    }
  });
});

/** A validated environment configuration. */
export type Config = z.infer<typeof configSchema>;

/** Raised when a configuration does not validate; the message names every bad field. */
export class ConfigError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/**
 * Validates a configuration object.
 * @param source where it came from, for the error message
 * @throws ConfigError naming each invalid field, e.g. `endpoints[0].served_entities: traffic_percentage must add up to 100`
 */
export function parseConfig(input: unknown, source = 'config'): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${fieldPath(i.path) || '(root)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration in ${source}:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** The monitoring settings of a captured endpoint (or classic-route model). */
export function monitoringSettings(config: Config, endpoint: string): MonitoringSettings {
  const e = config.endpoints.find((x) => x.name === endpoint) ?? config.models.find((m) => m.name === endpoint);
  return e?.monitoring ?? monitoringSchema.parse({});
}
