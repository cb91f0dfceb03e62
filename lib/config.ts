import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { NAME_PATTERN, UNROUTED_ENDPOINT, isValidName, tableName } from '../lambdas/core/names.js';
import { fieldPath } from '../lambdas/core/field-path.js';

/**
 * One configuration per environment (`config/<env>.json`), read by `cdk synth` and by the
 * local stack alike. Field names follow the Databricks serving API (`served_entities`,
 * `traffic_percentage`, …) so its users can carry their endpoint definitions over.
 */

const name = z.string().regex(NAME_PATTERN, `must match ${NAME_PATTERN} (lowercase letters, digits, '-' and '_')`);

/** MLflow column types accepted in a signature. */
export const mlflowTypeSchema = z.enum(['double', 'float', 'long', 'integer', 'string', 'boolean', 'binary', 'datetime']);

/** The feature signature of a model version, as in an MLflow model signature. */
export const signatureSchema = z.strictObject({
  inputs: z.array(z.strictObject({ name: z.string().min(1), type: mlflowTypeSchema })).min(1),
  outputs: z.array(z.strictObject({ name: z.string().min(1).optional(), type: mlflowTypeSchema })).optional(),
});

const timeoutMs = z.number().int().min(1).max(900_000).default(25_000);

/** Where a model version runs. */
export const backendSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('builtin'),
    /** A model that ships with the product, so a demo needs nothing else. */
    model: z.enum(['iris', 'echo']),
  }),
  z.strictObject({
    type: z.literal('http'),
    /** Base URL of a server speaking the MLflow scoring protocol; `/invocations` is appended. */
    url: z.url({ protocol: /^https?$/ }),
    timeout_ms: timeoutMs,
  }),
  z.strictObject({
    type: z.literal('lambda'),
    /** Function name or ARN (a qualified ARN selects a version or alias). */
    function_name: z.string().min(1),
    timeout_ms: timeoutMs,
  }),
  z.strictObject({
    type: z.literal('sagemaker'),
    endpoint_name: z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'must be a SageMaker endpoint name'),
    region: z.string().optional(),
    timeout_ms: timeoutMs,
  }),
]);
export type Backend = z.infer<typeof backendSchema>;

export const stageSchema = z.enum(['None', 'Staging', 'Production', 'Archived']);
export type Stage = z.infer<typeof stageSchema>;

/** What is captured for an endpoint (or a model served on the classic route). */
export const captureSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Share of requests captured, decided deterministically from the request id. */
  sampling_fraction: z.number().gt(0).lte(1).default(1),
  /** Largest request or response logged whole; larger ones are null with a logging error code. */
  max_payload_bytes: z.number().int().min(1).max(1_048_576).default(1_048_576),
  /** Largest request body accepted; larger ones get 413. */
  max_request_bytes: z.number().int().min(1).max(64 * 1024 * 1024).default(16 * 1024 * 1024),
  /** JSONPath expressions whose values are replaced before anything is written (PII). */
  redact_paths: z.array(z.string().startsWith('$')).default([]),
  /**
   * Delivery streams the endpoint's records are spread over on AWS. One Firehose stream takes
   * about 2,000 put requests/s in the big regions (1,000 elsewhere); shard a busy endpoint.
   */
  streams: z.number().int().min(1).max(16).default(1),
});
export type CaptureSettings = z.infer<typeof captureSchema>;

/** Window lengths of the metrics tables (Lakehouse Monitoring's names). */
export const GRANULARITIES = ['5 minutes', '30 minutes', '1 hour', '1 day', '1 week'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * Monitoring of an endpoint by the refresh workflow: profile, drift and quality metrics per
 * window, and the thresholds that raise alerts.
 */
export const monitoringSchema = z.strictObject({
  enabled: z.boolean().default(true),
  granularities: z.array(z.enum(GRANULARITIES)).min(1).default(['1 hour', '1 day']),
  /** Default: classification when predictions are integers, strings or booleans, else regression. */
  problem_type: z.enum(['classification', 'regression']).optional(),
  /** Columns whose values each get a slice (the 20 most frequent values), e.g. `model_version`. */
  slices: z.array(z.string().regex(/^[a-z0-9_]+$/, 'must be an unpacked column name')).max(5).default([]),
  /**
   * What BASELINE drift compares with: a CSV or Parquet file of feature columns (path from the
   * project root, shipped with the workflow), a table of the environment's database with the
   * same column names, or a time range of the endpoint's own predictions.
   */
  baseline: z
    .union([
      z.strictObject({ file: z.string().regex(/\.(csv|parquet)$/, 'must be a .csv or .parquet file') }),
      z.strictObject({ table: z.string().regex(/^[a-z0-9_]{1,255}$/, 'must be a table name') }),
      z.strictObject({ from: z.iso.datetime(), to: z.iso.datetime() }),
    ])
    .optional(),
  drift: z
    .strictObject({
      /** False discovery rate across the columns of one comparison (Benjamini–Hochberg). */
      alpha: z.number().gt(0).lt(1).default(0.05),
      /** Fewer values on either side: INSUFFICIENT_DATA rather than a verdict. */
      min_samples: z.number().int().min(2).default(100),
      /** Smallest Jensen–Shannon distance that counts as drift, however small the p-value. */
      min_js_distance: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** Alert when this many columns or more drift in a window (0: never). */
      drifted_columns: z.number().int().min(0).default(1),
      /** Floors of quality metrics on `:table` rows, e.g. `{ "accuracy_score": 0.9 }`. */
      quality_floors: z.partialRecord(z.enum(['accuracy_score', 'f1_macro', 'roc_auc', 'r2_score']), z.number()).default({}),
      /** Ceilings of error metrics, e.g. `{ "root_mean_squared_error": 3 }`. */
      quality_ceilings: z.partialRecord(z.enum(['log_loss', 'mean_absolute_error', 'root_mean_squared_error', 'mean_absolute_percentage_error']), z.number()).default({}),
      /** Share of captured requests answered with a status ≥ 400. */
      max_error_rate: z.number().min(0).max(1).default(0.05),
      /** 99th percentile of the model's execution time. */
      max_p99_latency_ms: z.number().positive().default(1000),
      /** Alert when a window has fewer requests than this share of the previous one. */
      min_volume_ratio: z.number().min(0).max(1).default(0.5),
      /** Email addresses subscribed to the alerts topic on AWS. */
      emails: z.array(z.email()).default([]),
    })
    .prefault({}),
});
export type MonitoringSettings = z.infer<typeof monitoringSchema>;

export const modelVersionSchema = z.strictObject({
  version: z.string().regex(/^[1-9][0-9]*$/, 'must be a positive integer as a string'),
  stage: stageSchema.default('None'),
  backend: backendSchema,
  signature: signatureSchema.optional(),
});

/** A registered model, served on the classic route `/model/<name>/<version|stage|@alias>/invocations`. */
export const registeredModelSchema = z.strictObject({
  name,
  versions: z.array(modelVersionSchema).min(1),
  aliases: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.string()).default({}),
  capture: captureSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
});
export type RegisteredModel = z.infer<typeof registeredModelSchema>;

export const servedEntitySchema = z.strictObject({
  /** Unique within the endpoint; defaults to `<entity_name>-<entity_version>`. */
  name: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  entity_name: name,
  entity_version: z.string(),
  traffic_percentage: z.number().int().min(0).max(100),
});

export const endpointSchema = z.strictObject({
  name,
  served_entities: z.array(servedEntitySchema).min(1),
  capture: captureSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
});
export type Endpoint = z.infer<typeof endpointSchema>;

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** An API key of the deployed API, with its usage plan. */
export const apiKeySchema = z.strictObject({
  /** Name of the key and of its usage plan; it reaches the capture record as `api-key:<id>`. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, '-' and '_', at most 64"),
  /** Steady requests per second allowed to this key. */
  rate_limit: z.number().positive().optional(),
  /** Requests allowed in a burst above the rate. */
  burst_limit: z.number().int().positive().optional(),
  /** Requests allowed per period. */
  quota: z.strictObject({ limit: z.number().int().positive(), period: z.enum(['DAY', 'WEEK', 'MONTH']) }).optional(),
});
export type ApiKeySettings = z.infer<typeof apiKeySchema>;

/**
 * How the environment is deployed to AWS (`cdk deploy`). The local stack ignores this part.
 */
export const deploymentSchema = z.strictObject({
  /** AWS account and region of the environment; default: the CLI's credentials at deploy time. */
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id').optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional(),
  /** Days captured payloads are kept in S3 (then expire); older object versions go after 7 days. */
  data_retention_days: z.number().int().min(1).default(365),
  /** Days the function, API and stream logs are kept. */
  log_retention_days: z
    .number()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
    .default(90),
  /** Refuse `cdk destroy` of the stack (the data bucket and key are retained anyway). */
  termination_protection: z.boolean().default(false),
  api: z
    .strictObject({
      /** `iam`: callers sign with SigV4. `none`: API keys alone (then at least one key is required). */
      authorization: z.enum(['iam', 'none']).default('iam'),
      /** When present, every route requires one of these keys (`x-api-key`), each with its usage plan. */
      api_keys: z.array(apiKeySchema).default([]),
      /** Stage-wide throttling, requests per second and burst. */
      rate_limit: z.number().positive().default(1000),
      burst_limit: z.number().int().positive().default(2000),
    })
    .prefault({}),
  scoring_function: z
    .strictObject({
      memory_mb: z.number().int().min(128).max(10_240).default(1024),
      /** Below API Gateway's 29 s integration timeout, so the function answers before the gateway gives up. */
      timeout_seconds: z.number().int().min(3).max(28).default(28),
      reserved_concurrency: z.number().int().min(1).optional(),
      provisioned_concurrency: z.number().int().min(1).optional(),
    })
    .prefault({}),
  query: z
    .strictObject({
      /** Athena cancels a query of the environment's workgroup that scans more (minimum 10 MB). */
      bytes_scanned_cutoff_per_query: z.number().int().min(10_000_000).default(100_000_000_000),
    })
    .prefault({}),
  /**
   * Principals (12-digit account ids or IAM ARNs) allowed to assume a reader role with the
   * environment's read policy. Empty: only the managed policy is created.
   */
  reader_role_trusted_principals: z.array(z.string().regex(/^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+))$/, 'must be an account id or an IAM role/user ARN')).default([]),
});
export type DeploymentSettings = z.infer<typeof deploymentSchema>;

/** The scheduled refresh workflow: unpack payloads, attach labels (and, later, metrics). */
export const refreshSchema = z.strictObject({
  /** Run on a schedule (EventBridge Scheduler on AWS, a timer in `npm start` locally). */
  enabled: z.boolean().default(true),
  /** Minutes between two scheduled runs. */
  schedule_minutes: z.number().int().min(1).max(1440).default(60),
  /**
   * Hours of payload partitions read again behind the watermark: files can land after their
   * records' date (delivery buffering, retries), and those partitions are re-listed for them.
   */
  late_arrival_hours: z.number().int().min(1).max(24 * 14).default(24),
  /** Payload files one unpack task reads; a run makes at most `max_tasks_per_run` tasks. */
  files_per_task: z.number().int().min(1).max(1000).default(20),
  /**
   * Parquet bytes one unpack task reads at most (a larger file gets a task of its own): keeps
   * a task within its Lambda's memory and 10-minute timeout whatever the delivery buffering.
   */
  mib_per_task: z.number().int().min(1).max(1024).default(64),
  /**
   * Bounds one run (and keeps the task list well under the 256 KiB state limit); what is left
   * is taken by the next run.
   */
  max_tasks_per_run: z.number().int().min(1).max(1000).default(500),
  /** Unpack tasks running at once. */
  max_concurrency: z.number().int().min(1).max(1000).default(10),
});
export type RefreshSettings = z.infer<typeof refreshSchema>;

/**
 * The local server (`npm start`), which stands in for API Gateway on one machine: how many
 * requests it handles at once, and how slowly a request body may arrive before it is cut
 * with 408 (a grace period, then one more second per `body_min_bytes_per_second` bytes
 * received, never past the deadline). The AWS deployment ignores this part.
 */
export const localServerSchema = z.strictObject({
  /** Authenticated requests handled at once; the rest get 503 with Retry-After. */
  max_in_flight: z.number().int().min(1).max(100_000).default(256),
  body_grace_seconds: z.number().min(0.1).max(600).default(10),
  body_min_bytes_per_second: z.number().int().min(1).default(1024),
  body_deadline_seconds: z.number().min(1).max(3600).default(60),
});
export type LocalServerSettings = z.infer<typeof localServerSchema>;

const baseConfigSchema = z.strictObject({
  /** Environment name: `local`, `dev`, `prod`, … */
  environment: name,
  /** Glue database of the environment's tables. */
  database: z.string().regex(/^[a-z0-9_]{1,255}$/).optional(),
  /** Buffering of the capture streams (Firehose and the local delivery stream). */
  delivery: z
    .strictObject({
      buffer_interval_seconds: z.number().int().min(0).max(900).default(60),
      buffer_size_mb: z.number().int().min(1).max(128).default(64),
      /**
       * Time a put to the stream may take, retries and backoff included, before its records
       * are spilled. With `spill_timeout_ms`, the most capture adds to a request's latency.
       */
      retry_budget_ms: z.number().int().min(50).max(10_000).default(1000),
      /** Time the spill write may take before its records are counted lost. */
      spill_timeout_ms: z.number().int().min(100).max(10_000).default(2000),
      /** How often spilled records are put back into the stream (the redrive schedule). */
      redrive_minutes: z.number().int().min(1).max(1440).default(15),
    })
    .prefault({}),
  models: z.array(registeredModelSchema).default([]),
  endpoints: z.array(endpointSchema).default([]),
  refresh: refreshSchema.prefault({}),
  deployment: deploymentSchema.prefault({}),
  local: localServerSchema.prefault({}),
});

function servedName(e: { name?: string | undefined; entity_name: string; entity_version: string }): string {
  return e.name ?? `${e.entity_name}-${e.entity_version}`;
}

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
  // A backend must give up before the function does, leaving the capture its whole budget
  // (retries, then the spill): a slow model's request is still captured, never cut off.
  const backendBudgetMs = fn.timeout_seconds * 1000 - cfg.delivery.retry_budget_ms - cfg.delivery.spill_timeout_ms;
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
  });
});

/** A validated environment configuration. */
export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Raised when a configuration does not validate; the message names every bad field. */
export class ConfigError extends Error {
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

/** Reads and validates `config/<env>.json` (or any path ending in `.json`). */
export function loadConfig(envOrPath: string, root = process.cwd()): Config {
  const path = envOrPath.endsWith('.json') ? envOrPath : join(root, 'config', `${envOrPath}.json`);
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read configuration ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`Configuration ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseConfig(json, path);
}

/** The monitoring settings of a captured endpoint (or classic-route model). */
export function monitoringSettings(config: Config, endpoint: string): MonitoringSettings {
  const e = config.endpoints.find((x) => x.name === endpoint) ?? config.models.find((m) => m.name === endpoint);
  return e?.monitoring ?? monitoringSchema.parse({});
}

/** The name a served entity answers to (`served-model-name`). */
export { servedName };
