import { z } from 'zod';
import { type Backend, type Config, servedName } from './config/index.js';
import { timeFields } from './capture-record.js';
import { stableId } from './hash.js';
import type { ObjectStore } from './ports.js';
import { endpointEntityId, modelEntityId } from './routing.js';

/**
 * Every served entity ever configured, so `payload JOIN served_entities USING
 * (served_entity_id)` names the model, version and backend behind each row (Databricks'
 * `system.serving.served_entities`). Each time the configuration changes (a deploy on AWS, a
 * start with a changed file locally), one JSON-lines file of its served entities is appended
 * under `served_entities_history/`; the `served_entities` view keeps one row per entity with
 * its latest attributes and when it entered and left the configuration. Entities of endpoints
 * and the versions of classic-route models (`/model/<name>/<version>`) are both recorded.
 */

/** The history table's name and its folder (a prefix of the data bucket on AWS). */
export const SERVED_ENTITIES_HISTORY = 'served_entities_history';
/** The view's name. */
export const SERVED_ENTITIES_VIEW = 'served_entities';
const PREFIX = `${SERVED_ENTITIES_HISTORY}/`;

/** One served entity in one applied configuration: a row of the history table. */
export const servedEntityRowSchema = z.object({
  config_version: z.string(),
  applied_at: z.string(),
  endpoint: z.string(),
  /** `endpoint` for an endpoint's served entity, `model` for a version on the classic route. */
  route: z.enum(['endpoint', 'model']),
  served_entity_id: z.string(),
  served_entity_name: z.string(),
  entity_name: z.string(),
  entity_version: z.string(),
  stage: z.string(),
  /** The registry's aliases pointing at this version, comma-separated (`champion`), empty when none. */
  aliases: z.string(),
  backend_type: z.string(),
  /** What the backend calls: a URL, an upstream model, a function, a SageMaker endpoint; never a key. */
  backend_target: z.string(),
  /** Null on the classic route, which has no traffic split. */
  traffic_percentage: z.number().int().nullable(),
  /** Whether the endpoint (or classic-route model) captured its requests, and at what fraction. */
  capture_enabled: z.boolean(),
  sampling_fraction: z.number(),
  /** Who applied the configuration: `configuration file` at a deploy or start, else the caller of the change. */
  changed_by: z.string(),
});
type ServedEntityRow = z.infer<typeof servedEntityRowSchema>;

/** The history's columns in order: name, Athena (Trino) type, Glue (Hive) type. */
export const HISTORY_COLUMNS: readonly (readonly [keyof ServedEntityRow, string, string])[] = [
  ['config_version', 'varchar', 'string'],
  ['applied_at', 'timestamp(3)', 'timestamp'],
  ['endpoint', 'varchar', 'string'],
  ['route', 'varchar', 'string'],
  ['served_entity_id', 'varchar', 'string'],
  ['served_entity_name', 'varchar', 'string'],
  ['entity_name', 'varchar', 'string'],
  ['entity_version', 'varchar', 'string'],
  ['stage', 'varchar', 'string'],
  ['aliases', 'varchar', 'string'],
  ['backend_type', 'varchar', 'string'],
  ['backend_target', 'varchar', 'string'],
  ['traffic_percentage', 'integer', 'int'],
  ['capture_enabled', 'boolean', 'boolean'],
  ['sampling_fraction', 'double', 'double'],
  ['changed_by', 'varchar', 'string'],
];

/** The view's columns: the latest attributes of each entity, then when it was configured. */
export const VIEW_COLUMNS: readonly (readonly [string, string, string])[] = [
  ['served_entity_id', 'varchar', 'string'],
  ...HISTORY_COLUMNS.filter(([c]) => c !== 'applied_at' && c !== 'served_entity_id'),
  ['configured_from', 'timestamp(3)', 'timestamp'],
  ['configured_until', 'timestamp(3)', 'timestamp'],
  ['active', 'boolean', 'boolean'],
];

/** What a backend calls, as the table shows it (a key or a secret's name never). */
export function backendTarget(backend: Backend): string {
  switch (backend.type) {
    case 'builtin':
      return backend.model;
    case 'http':
      return backend.url;
    case 'openai':
      return `${backend.model} at ${backend.base_url}`;
    case 'bedrock':
      return backend.region ? `${backend.model_id} in ${backend.region}` : backend.model_id;
    case 'lambda':
      return backend.function_name;
    case 'sagemaker':
      return backend.region ? `${backend.endpoint_name} in ${backend.region}` : backend.endpoint_name;
  }
}

type Entity = Omit<ServedEntityRow, 'config_version' | 'applied_at' | 'changed_by'>;

const aliasesOf = (aliases: Readonly<Record<string, string>>, version: string): string =>
  Object.entries(aliases)
    .filter(([, v]) => v === version)
    .map(([a]) => a)
    .sort()
    .join(',');

/** The served entities of a configuration, in a stable order. */
export function servedEntities(config: Config): Entity[] {
  const models = new Map(config.models.map((m) => [m.name, m]));
  const rows: Entity[] = [];
  for (const endpoint of config.endpoints) {
    for (const e of endpoint.served_entities) {
      const version = models.get(e.entity_name)?.versions.find((v) => v.version === e.entity_version);
      if (!version) continue;
      const name = servedName(e);
      rows.push({
        endpoint: endpoint.name,
        route: 'endpoint',
        served_entity_id: endpointEntityId(endpoint.name, name, e.entity_name, e.entity_version),
        served_entity_name: name,
        entity_name: e.entity_name,
        entity_version: e.entity_version,
        stage: version.stage,
        aliases: aliasesOf(models.get(e.entity_name)?.aliases ?? {}, e.entity_version),
        backend_type: version.backend.type,
        backend_target: backendTarget(version.backend),
        traffic_percentage: e.traffic_percentage,
        capture_enabled: endpoint.capture.enabled,
        sampling_fraction: endpoint.capture.sampling_fraction,
      });
    }
  }
  for (const model of config.models) {
    for (const version of model.versions) {
      rows.push({
        endpoint: model.name,
        route: 'model',
        served_entity_id: modelEntityId(model.name, version.version),
        served_entity_name: `${model.name}-${version.version}`,
        entity_name: model.name,
        entity_version: version.version,
        stage: version.stage,
        aliases: aliasesOf(model.aliases, version.version),
        backend_type: version.backend.type,
        backend_target: backendTarget(version.backend),
        traffic_percentage: null,
        capture_enabled: model.capture.enabled,
        sampling_fraction: model.capture.sampling_fraction,
      });
    }
  }
  return rows;
}

/** The configuration's version: a hash of its served entities, the same for the same entities. */
export function configVersion(entities: readonly Entity[]): string {
  return stableId(JSON.stringify(entities)).slice(0, 16);
}

/** A history file's key: its time first (zero-padded, so keys sort in time), then its version. */
const fileKey = (appliedAtMs: number, version: string) => `${PREFIX}${String(appliedAtMs).padStart(15, '0')}-${version}.json`;
const VERSION_OF_KEY = /-([0-9a-f]{16})\.json$/;

/** What {@link recordServedEntities} did. */
export interface RecordedConfig {
  readonly configVersion: string;
  /** False when the latest file already holds this configuration. */
  readonly written: boolean;
  readonly key: string;
}

/**
 * Appends the configuration's served entities to the history, unless the latest file holds
 * the same ones (a restart, a deploy that changed something else). Returning to an earlier
 * configuration appends it again, so the history says when it came back.
 */
export async function recordServedEntities(store: ObjectStore, config: Config, nowMs: number, by: { readonly changedBy?: string } = {}): Promise<RecordedConfig> {
  const entities = servedEntities(config);
  const version = configVersion(entities);
  const latest = (await store.list(PREFIX))
    .map((o) => o.key)
    .filter((k) => VERSION_OF_KEY.test(k))
    .sort()
    .at(-1);
  if (latest && VERSION_OF_KEY.exec(latest)?.[1] === version) return { configVersion: version, written: false, key: latest };
  const key = fileKey(nowMs, version);
  const applied_at = timeFields(nowMs).request_time;
  const changed_by = by.changedBy ?? 'configuration file';
  const lines = entities.map((e) => JSON.stringify(servedEntityRowSchema.parse({ config_version: version, applied_at, ...e, changed_by })));
  await store.put(key, `${lines.join('\n')}\n`);
  return { configVersion: version, written: true, key };
}

/**
 * The view over the history (`"db"."served_entities_history"` or a local view), in SQL that
 * Athena and the local engine both run: each entity's latest attributes (`max_by` over the
 * applications), when it was first configured, and when the first configuration without it
 * was applied (NULL while it is configured).
 */
export function servedEntitiesViewQuery(history: string): string {
  const attributes = VIEW_COLUMNS.map(([c]) => c).filter((c) => !['served_entity_id', 'configured_from', 'configured_until', 'active'].includes(c));
  return `WITH applications AS (
  SELECT applied_at, lead(applied_at) OVER (ORDER BY applied_at) AS next_applied_at FROM (SELECT DISTINCT applied_at FROM ${history}) AS a
), entities AS (
  SELECT served_entity_id, ${attributes.map((c) => `max_by(${c}, applied_at) AS ${c}`).join(', ')}, min(applied_at) AS configured_from, max(applied_at) AS last_applied_at
  FROM ${history} GROUP BY served_entity_id
)
SELECT e.served_entity_id, ${attributes.map((c) => `e.${c}`).join(', ')}, e.configured_from, a.next_applied_at AS configured_until, a.next_applied_at IS NULL AS active
FROM entities AS e JOIN applications AS a ON a.applied_at = e.last_applied_at`;
}
