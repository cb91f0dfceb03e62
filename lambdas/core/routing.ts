import { type CaptureSettings, type Config, captureSchema, servedName, stageSchema, type Backend, type Endpoint, type RegisteredModel } from './config/index.js';
import { InvalidRequestError, NotFoundError } from './errors.js';
import { stableId, unitHash } from './hash.js';
import { UNROUTED_ENDPOINT, isValidName } from './names.js';

/** Where an invocation is captured: the endpoint (or classic-route model) and its settings. */
export interface CaptureTarget {
  /** Partition and table prefix (`<endpoint>_payload`). */
  readonly endpoint: string;
  /** The name the caller asked for, as recorded in `request_metadata.endpoint_name`. */
  readonly requestedName: string;
  readonly settings: CaptureSettings;
}

/** The served entity chosen to answer. */
export interface ServedEntity {
  readonly servedName: string;
  readonly servedEntityId: string;
  readonly modelName: string;
  readonly modelVersion: string;
  readonly backend: Backend;
  /** The scoring protocol the version speaks (MLflow 2's fields, or 1.x's bare lists). */
  readonly protocol: 'mlflow2' | 'mlflow1';
}

const UNROUTED_SETTINGS: CaptureSettings = captureSchema.parse({});

/** Looks up endpoints and registered models of one configuration. */
/** The id of an entity served by an endpoint: stable across deploys while its name, model and version stay. */
export const endpointEntityId = (endpoint: string, servedName: string, model: string, version: string): string => stableId(endpoint, servedName, model, version);
/** The id of a model version called on its classic route (`/model/<name>/<version>`). */
export const modelEntityId = (model: string, version: string): string => stableId('model', model, version);

export class Router {
  private readonly endpoints: Map<string, Endpoint>;
  private readonly models: Map<string, RegisteredModel>;
  /** Served entities of each endpoint, resolved once. */
  private readonly served = new Map<string, { entity: ServedEntity; traffic: number }[]>();
  /** Capture settings by endpoint and by model, with the redaction that applies on every path to them. */
  private readonly captureOf = new Map<string, CaptureSettings>();
  private readonly modelCaptureOf = new Map<string, CaptureSettings>();
  private readonly unrouted: CaptureSettings;

  public constructor(config: Config) {
    this.endpoints = new Map(config.endpoints.map((e) => [e.name, e]));
    this.models = new Map(config.models.map((m) => [m.name, m]));
    // Redaction follows the data, not the route: the project's paths everywhere; an endpoint's
    // also on the classic route of each model it serves; every path on unrouted calls, which
    // may be a mistyped name of any endpoint.
    const union = (...lists: readonly (readonly string[])[]) => [...new Set(lists.flat())];
    for (const e of config.endpoints) this.captureOf.set(e.name, { ...e.capture, redact_paths: union(config.redact_paths, e.capture.redact_paths) });
    for (const m of config.models) {
      const servers = config.endpoints.filter((e) => e.served_entities.some((s) => s.entity_name === m.name));
      this.modelCaptureOf.set(m.name, { ...m.capture, redact_paths: union(config.redact_paths, m.capture.redact_paths, ...servers.map((e) => e.capture.redact_paths)) });
    }
    this.unrouted = { ...UNROUTED_SETTINGS, redact_paths: union(config.redact_paths, ...config.endpoints.map((e) => e.capture.redact_paths), ...config.models.map((m) => m.capture.redact_paths)) };
    for (const endpoint of config.endpoints) {
      this.served.set(
        endpoint.name,
        endpoint.served_entities.map((e) => {
          const model = this.models.get(e.entity_name) as RegisteredModel;
          const version = model.versions.find((v) => v.version === e.entity_version) as RegisteredModel['versions'][number];
          const name = servedName(e);
          return {
            traffic: e.traffic_percentage,
            entity: {
              servedName: name,
              servedEntityId: endpointEntityId(endpoint.name, name, model.name, version.version),
              modelName: model.name,
              modelVersion: version.version,
              backend: version.backend,
              protocol: version.scoring_protocol,
            },
          };
        }),
      );
    }
  }

  /** The endpoint configuration, if any. */
  public endpoint(name: string): Endpoint | undefined {
    return this.endpoints.get(name);
  }

  /** The served entities of an endpoint with their traffic percentage, as resolved at start; none for an unknown name. */
  public servedEntities(endpointName: string): readonly { readonly entity: ServedEntity; readonly traffic: number }[] {
    return this.served.get(endpointName) ?? [];
  }

  /** Capture target of an invocation route; unknown names are captured as `unrouted`. */
  public captureTarget(route: { kind: 'invoke-endpoint'; endpoint: string } | { kind: 'invoke-model'; model: string }): CaptureTarget {
    const name = route.kind === 'invoke-endpoint' ? route.endpoint : route.model;
    const known = route.kind === 'invoke-endpoint' ? this.endpoints.get(name) : this.models.get(name);
    const requestedName = name.length > 128 ? `${name.slice(0, 128)}…` : name;
    if (!known) return { endpoint: UNROUTED_ENDPOINT, requestedName, settings: this.unrouted };
    const settings = (route.kind === 'invoke-endpoint' ? this.captureOf : this.modelCaptureOf).get(name) as CaptureSettings;
    return { endpoint: name, requestedName, settings };
  }

  /**
   * Chooses the served entity of an endpoint: the one named, or by traffic split on a hash
   * of the request id (so a replay of the same id goes to the same entity).
   * @throws NotFoundError for an unknown endpoint or served entity
   */
  public chooseForEndpoint(endpointName: string, requestId: string, served?: string): ServedEntity {
    const entities = this.served.get(endpointName);
    if (!entities) {
      throw new NotFoundError(`Endpoint '${isValidName(endpointName) ? endpointName : '<invalid name>'}' does not exist.`, 'ENDPOINT_NOT_FOUND');
    }
    if (served !== undefined) {
      const named = entities.find((e) => e.entity.servedName === served);
      if (!named) throw new NotFoundError(`Served model '${served.slice(0, 128)}' does not exist in endpoint '${endpointName}'.`);
      return named.entity;
    }
    const bucket = unitHash(requestId) * 100;
    let cumulative = 0;
    const live = entities.filter((e) => e.traffic > 0);
    const chosen = live.find((e) => (cumulative += e.traffic) > bucket) ?? live.at(-1);
    if (!chosen) throw new NotFoundError(`Endpoint '${endpointName}' routes no traffic.`);
    return chosen.entity;
  }

  /**
   * Resolves `/model/<name>/<ref>`: a version number, a stage (case-insensitive; the
   * highest version in it) or `@alias`. Archived versions are not served.
   * @throws NotFoundError, or InvalidRequestError for a stage name MLflow does not know
   */
  public chooseForModel(modelName: string, ref: string): ServedEntity {
    const model = this.models.get(modelName);
    if (!model) {
      throw new NotFoundError(`Registered model '${isValidName(modelName) ? modelName : '<invalid name>'}' does not exist.`);
    }
    let version: RegisteredModel['versions'][number] | undefined;
    if (/^[0-9]+$/.test(ref)) {
      version = model.versions.find((v) => v.version === ref);
      if (!version) throw new NotFoundError(`Model version ${ref} of '${modelName}' does not exist.`);
    } else if (ref.startsWith('@')) {
      const target = model.aliases[ref.slice(1)];
      if (target === undefined) throw new NotFoundError(`Alias '${ref.slice(1)}' does not exist for model '${modelName}'.`);
      version = model.versions.find((v) => v.version === target);
    } else {
      const stage = stageSchema.options.find((s) => s.toLowerCase() === ref.toLowerCase());
      if (!stage) {
        throw new InvalidRequestError(
          `Invalid Model Version stage: ${ref.slice(0, 64)}. Value must be one of ${stageSchema.options.join(', ')}.`,
          'INVALID_PARAMETER_VALUE',
        );
      }
      if (stage === 'Archived') throw new NotFoundError(`Archived versions of '${modelName}' are not served.`);
      version = model.versions
        .filter((v) => v.stage === stage)
        .sort((a, b) => Number(b.version) - Number(a.version))[0];
      if (!version) throw new NotFoundError(`Model '${modelName}' has no version in stage '${stage}'.`);
    }
    if (!version) throw new NotFoundError(`Model '${modelName}' has no version for '${ref}'.`);
    if (version.stage === 'Archived') throw new NotFoundError(`Model version ${version.version} of '${modelName}' is archived and not served.`);
    const name = `${model.name}-${version.version}`;
    return {
      servedName: name,
      servedEntityId: modelEntityId(model.name, version.version),
      modelName: model.name,
      modelVersion: version.version,
      backend: version.backend,
      protocol: version.scoring_protocol,
    };
  }
}
