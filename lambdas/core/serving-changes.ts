import { z } from 'zod';
import { parseUntrusted } from './untrusted.js';
import { type Backend, type Endpoint, type RegisteredModel, backendSchema, servedName, stageSchema } from './config/index.js';
import { InvalidRequestError, NotFoundError } from './errors.js';
import { fieldPath } from './field-path.js';
import type { ServingChange, ServingState } from './serving-state.js';

/**
 * The changes the management APIs make, in the shapes their clients send: the MLflow model
 * registry's (`model-versions/create`, `transition-stage`, aliases) and Databricks' serving
 * endpoints' (`PUT …/config`, `PUT …/ai-gateway`). Each request is read with a schema, then
 * becomes a {@link ServingChange}; the answers are the registry's and the endpoint API's
 * objects. Endpoints and registered models are created by deploying the configuration (each
 * has its tables and streams), so a change names existing ones.
 */

type Models = ServingState['models'];
type Version = RegisteredModel['versions'][number];

/** Reads a request body with a schema; a refusal names the field, as MLflow's do. */
export function readRequest<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = parseUntrusted(schema, body);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  throw new InvalidRequestError(`Invalid value for parameter '${fieldPath(issue.path) || 'body'}': ${issue.message}.`, 'INVALID_PARAMETER_VALUE');
}

const name = z.string().min(1);
/** MLflow takes the version as a string or a number. */
const versionText = z.union([z.string().regex(/^[1-9][0-9]*$/), z.int().min(1).transform(String)], { error: 'must be a positive version number' });
/** MLflow's stage names, in any case (`production`, `Production`). */
const stage = z.string().transform((s, ctx) => {
  const found = stageSchema.options.find((o) => o.toLowerCase() === s.toLowerCase());
  if (!found) ctx.addIssue({ code: 'custom', message: `must be one of ${stageSchema.options.join(', ')}` });
  return found ?? 'None';
});

/** A registered model by name. @throws NotFoundError in the registry's words */
export function modelOf(models: Models, model: string): RegisteredModel {
  const found = models.find((m) => m.name === model);
  if (!found) throw new NotFoundError(`Registered Model with name=${model} not found. Registered models are created by deploying the configuration; this one has none of that name.`);
  return found;
}

/** A model's version by number. @throws NotFoundError in the registry's words */
export function versionOf(m: RegisteredModel, version: string): Version {
  const found = m.versions.find((v) => v.version === version);
  if (!found) throw new NotFoundError(`Model Version (name=${m.name}, version=${version}) not found`);
  return found;
}

const withModel = (models: Models, changed: RegisteredModel): Models => models.map((m) => (m.name === changed.name ? changed : m));

/** The registry's view of a version (`model_version`), with its aliases. */
export function modelVersionView(m: RegisteredModel, v: Version, state: Pick<ServingState, 'updated_at'>) {
  return {
    name: m.name,
    version: v.version,
    current_stage: v.stage,
    status: 'READY',
    source: v.backend.type === 'http' ? v.backend.url : `${v.backend.type}:`,
    backend: v.backend,
    aliases: Object.entries(m.aliases).filter(([, to]) => to === v.version).map(([alias]) => alias),
    last_updated_timestamp: Date.parse(state.updated_at),
  };
}

/** The registry's view of a model (`registered_model`): its latest version per stage, and its aliases. */
export function registeredModelView(m: RegisteredModel, state: Pick<ServingState, 'updated_at'>) {
  const latest = new Map<string, Version>();
  for (const v of m.versions) if (Number(v.version) > Number(latest.get(v.stage)?.version ?? 0)) latest.set(v.stage, v);
  return {
    name: m.name,
    latest_versions: [...latest.values()].map((v) => modelVersionView(m, v, state)),
    aliases: Object.entries(m.aliases).map(([alias, version]) => ({ alias, version })),
    last_updated_timestamp: Date.parse(state.updated_at),
  };
}

/** `POST model-versions/create`: the next version of a model, with its backend (or an MLflow server's URL as `source`). */
export const createVersionRequest = z.object({
  name,
  source: z.string().optional(),
  backend: backendSchema.optional(),
  /** The protocol the version speaks: `mlflow1` for a model logged with MLflow 1.x. */
  scoring_protocol: z.enum(['mlflow2', 'mlflow1']).default('mlflow2'),
  description: z.string().optional(),
});

export function createVersion(request: z.output<typeof createVersionRequest>): ServingChange {
  const backend: Backend | undefined = request.backend ?? (request.source && /^https?:\/\//.test(request.source) ? backendSchema.parse({ type: 'http', url: request.source }) : undefined);
  if (!backend) {
    throw new InvalidRequestError("Invalid value for parameter 'backend': a version needs a backend to serve it (an object as in the configuration file), or 'source' set to the URL of an MLflow scoring server.", 'INVALID_PARAMETER_VALUE');
  }
  return ({ models, endpoints }) => {
    const m = modelOf(models, request.name);
    // The next number: versions are appended, so the new one is the model's last.
    const version = String(Math.max(0, ...m.versions.map((v) => Number(v.version))) + 1);
    return { models: withModel(models, { ...m, versions: [...m.versions, { version, stage: 'None', backend, scoring_protocol: request.scoring_protocol }] }), endpoints };
  };
}

/** `POST model-versions/transition-stage`. */
export const transitionRequest = z.object({ name, version: versionText, stage, archive_existing_versions: z.boolean().default(false) });

export function transitionStage(request: z.output<typeof transitionRequest>): ServingChange {
  return ({ models, endpoints }) => {
    const m = modelOf(models, request.name);
    versionOf(m, request.version);
    // MLflow archives the other versions in the target stage when asked (Staging and Production only).
    const archive = request.archive_existing_versions && (request.stage === 'Staging' || request.stage === 'Production');
    const versions = m.versions.map((v) => (v.version === request.version ? { ...v, stage: request.stage } : archive && v.stage === request.stage ? { ...v, stage: 'Archived' as const } : v));
    return { models: withModel(models, { ...m, versions }), endpoints };
  };
}

/** `POST registered-models/alias`. */
export const setAliasRequest = z.object({ name, alias: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -'), version: versionText });

export function setAlias(request: z.output<typeof setAliasRequest>): ServingChange {
  return ({ models, endpoints }) => {
    const m = modelOf(models, request.name);
    versionOf(m, request.version);
    return { models: withModel(models, { ...m, aliases: { ...m.aliases, [request.alias]: request.version } }), endpoints };
  };
}

/** `DELETE registered-models/alias`. */
export const deleteAliasRequest = z.object({ name, alias: z.string().min(1) });

export function deleteAlias(request: z.output<typeof deleteAliasRequest>): ServingChange {
  return ({ models, endpoints }) => {
    const m = modelOf(models, request.name);
    if (!Object.hasOwn(m.aliases, request.alias)) throw new NotFoundError(`Registered model alias ${request.alias} not found for model ${m.name}.`);
    const aliases = Object.fromEntries(Object.entries(m.aliases).filter(([a]) => a !== request.alias));
    return { models: withModel(models, { ...m, aliases }), endpoints };
  };
}

function endpointOf(endpoints: readonly Endpoint[], endpoint: string): Endpoint {
  const found = endpoints.find((e) => e.name === endpoint);
  if (!found) throw new NotFoundError(`Endpoint '${endpoint}' does not exist. Endpoints are created by deploying the configuration (each has its tables and streams).`, 'RESOURCE_DOES_NOT_EXIST');
  return found;
}
const withEndpoint = (endpoints: readonly Endpoint[], changed: Endpoint): Endpoint[] => endpoints.map((e) => (e.name === changed.name ? changed : e));

const captureFields = { enabled: z.boolean().optional(), sampling_fraction: z.number().gt(0).max(1).optional() };

/** `PUT serving-endpoints/{name}/config`: served entities (or Databricks' older `served_models`), traffic and capture. */
export const endpointConfigRequest = z
  .object({
    served_entities: z.array(z.looseObject({ name: z.string().optional(), entity_name: z.string().min(1), entity_version: versionText })).min(1).optional(),
    served_models: z.array(z.looseObject({ name: z.string().optional(), model_name: z.string().min(1), model_version: versionText })).min(1).optional(),
    traffic_config: z.object({ routes: z.array(z.looseObject({ served_model_name: z.string().optional(), served_entity_name: z.string().optional(), traffic_percentage: z.int().min(0).max(100) })) }).optional(),
    auto_capture_config: z.looseObject(captureFields).optional(),
  })
  .refine((r) => r.served_entities || r.served_models || r.traffic_config || r.auto_capture_config, { message: 'give served_entities, traffic_config or auto_capture_config' });

export function putEndpointConfig(endpoint: string, request: z.output<typeof endpointConfigRequest>): ServingChange {
  return ({ models, endpoints }) => {
    const current = endpointOf(endpoints, endpoint);
    const given = request.served_entities ?? request.served_models?.map((m) => ({ name: m.name, entity_name: m.model_name, entity_version: m.model_version }));
    let served = given
      ? given.map((e) => ({ ...(e.name ? { name: e.name } : {}), entity_name: e.entity_name, entity_version: e.entity_version, traffic_percentage: given.length === 1 ? 100 : 0 }))
      : current.served_entities;
    if (request.traffic_config) {
      const routes = request.traffic_config.routes;
      const named = new Set(served.map((e) => servedName(e)));
      const routed = new Set<string>();
      for (const r of routes) {
        const target = r.served_entity_name ?? r.served_model_name ?? '';
        if (routed.has(target)) throw new InvalidRequestError(`Invalid value for parameter 'traffic_config.routes': served entity '${target}' is routed twice.`, 'INVALID_PARAMETER_VALUE');
        routed.add(target);
        if (!named.has(target)) throw new InvalidRequestError(`Invalid value for parameter 'traffic_config.routes': served entity '${target}' is not served by endpoint '${endpoint}' (it serves ${[...named].join(', ')}).`, 'INVALID_PARAMETER_VALUE');
      }
      served = served.map((e) => ({ ...e, traffic_percentage: routes.find((r) => (r.served_entity_name ?? r.served_model_name) === servedName(e))?.traffic_percentage ?? 0 }));
    } else if (given && given.length > 1) {
      throw new InvalidRequestError("Invalid value for parameter 'traffic_config': several served entities need their traffic split.", 'INVALID_PARAMETER_VALUE');
    }
    const capture = { ...current.capture, ...definedOf(request.auto_capture_config) };
    return { models, endpoints: withEndpoint(endpoints, { ...current, served_entities: served, capture }) };
  };
}

/** `PUT serving-endpoints/{name}/ai-gateway`: the inference table's capture (and usage tracking, which is always on). */
export const aiGatewayRequest = z.looseObject({
  inference_table_config: z.looseObject(captureFields).optional(),
  usage_tracking_config: z.looseObject({ enabled: z.boolean().optional() }).optional(),
});

export function putAiGateway(endpoint: string, request: z.output<typeof aiGatewayRequest>): ServingChange {
  if (request.usage_tracking_config?.enabled === false) {
    throw new InvalidRequestError("Invalid value for parameter 'usage_tracking_config.enabled': usage is read from the payload tables (the endpoint_usage view), so it is tracked whenever requests are captured.", 'INVALID_PARAMETER_VALUE');
  }
  return ({ models, endpoints }) => {
    const current = endpointOf(endpoints, endpoint);
    return { models, endpoints: withEndpoint(endpoints, { ...current, capture: { ...current.capture, ...definedOf(request.inference_table_config) } }) };
  };
}

/** The capture fields a request set: `enabled` and `sampling_fraction`, the others left as they are. */
function definedOf(fields: { enabled?: boolean | undefined; sampling_fraction?: number | undefined } | undefined): Partial<Endpoint['capture']> {
  return { ...(fields?.enabled !== undefined ? { enabled: fields.enabled } : {}), ...(fields?.sampling_fraction !== undefined ? { sampling_fraction: fields.sampling_fraction } : {}) };
}

/** The AI Gateway view of an endpoint's capture, as `PUT …/ai-gateway` and `GET` answer it. */
export function aiGatewayView(e: Endpoint) {
  return { inference_table_config: { enabled: e.capture.enabled, sampling_fraction: e.capture.sampling_fraction, table_name_prefix: e.name.replaceAll('-', '_') }, usage_tracking_config: { enabled: true } };
}
