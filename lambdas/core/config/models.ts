import { z } from 'zod';
import { NAME_PATTERN } from '../names.js';
import { captureSchema } from './capture.js';
import { monitoringSchema } from './monitoring.js';

/**
 * What is served: registered models with their versions, stages, aliases and backends, and
 * serving endpoints that split traffic between them. Field names follow the Databricks
 * serving API (`served_entities`, `traffic_percentage`, …) so its users can carry their
 * endpoint definitions over.
 */

/** A name of an endpoint or registered model: it becomes part of a table name, an S3 key and SQL. */
export const nameSchema = z.string().regex(NAME_PATTERN, `must match ${NAME_PATTERN} (lowercase letters, digits, '-' and '_')`);

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
    type: z.literal('openai'),
    /** Base URL of an OpenAI-compatible API (OpenAI, Azure OpenAI, vLLM, TGI, Ollama…), e.g. `https://api.openai.com/v1`. */
    base_url: z.url({ protocol: /^https?$/ }),
    /** The upstream model's name, sent as `model`. */
    model: z.string().min(1),
    /**
     * Where its API key is read: a Secrets Manager secret (name or ARN) on AWS, an environment
     * variable locally. None for a server that takes no key (a local vLLM).
     */
    api_key: z.union([z.strictObject({ secret: z.string().min(1) }), z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') })]).optional(),
    /**
     * Ask the API for its token usage in every stream (`stream_options.include_usage`), so the
     * usage view holds the model's own counts; the caller gets the usage event only when it asked.
     * Turn off for a server that refuses `stream_options`; the proxy then counts the tokens.
     */
    stream_usage: z.boolean().default(true),
    timeout_ms: timeoutMs,
  }),
  z.strictObject({
    type: z.literal('bedrock'),
    /**
     * An Amazon Bedrock model id (`anthropic.claude-3-haiku-20240307-v1:0`), an inference
     * profile id (`eu.anthropic…`) or either's ARN, called with the Converse API.
     */
    model_id: z.string().regex(/^[A-Za-z0-9.:/_-]{1,2048}$/, 'must be a Bedrock model id, inference profile id or ARN'),
    region: z.string().optional(),
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

export const modelVersionSchema = z.strictObject({
  version: z.string().regex(/^[1-9][0-9]*$/, 'must be a positive integer as a string'),
  stage: stageSchema.default('None'),
  backend: backendSchema,
  signature: signatureSchema.optional(),
  /**
   * The scoring protocol the version speaks: `mlflow2` (the fields `dataframe_split`,
   * `dataframe_records`, `instances`, `inputs`), or `mlflow1` for a model logged with MLflow 1.x
   * (a bare list of records, `format=pandas-split` or `pandas-records`, answered with a bare list).
   */
  scoring_protocol: z.enum(['mlflow2', 'mlflow1']).default('mlflow2'),
});

/** A registered model, served on the classic route `/model/<name>/<version|stage|@alias>/invocations`. */
export const registeredModelSchema = z.strictObject({
  name: nameSchema,
  versions: z.array(modelVersionSchema).min(1),
  aliases: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.string()).default({}),
  capture: captureSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
});
export type RegisteredModel = z.infer<typeof registeredModelSchema>;

export const servedEntitySchema = z.strictObject({
  /** Unique within the endpoint; defaults to `<entity_name>-<entity_version>`. */
  name: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  entity_name: nameSchema,
  entity_version: z.string(),
  traffic_percentage: z.number().int().min(0).max(100),
});

export const endpointSchema = z.strictObject({
  name: nameSchema,
  served_entities: z.array(servedEntitySchema).min(1),
  capture: captureSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
});
export type Endpoint = z.infer<typeof endpointSchema>;

/** The name a served entity answers to (`served-model-name`): its own, or `<entity_name>-<entity_version>`. */
export function servedName(e: { name?: string | undefined; entity_name: string; entity_version: string }): string {
  return e.name ?? `${e.entity_name}-${e.entity_version}`;
}
