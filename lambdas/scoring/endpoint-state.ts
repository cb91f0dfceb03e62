import { type Config, type Endpoint, servedName } from '../core/config/index.js';
import { stableId } from '../core/hash.js';
import { environmentNames, tableName } from '../core/names.js';
import type { CaptureSink } from '../core/ports.js';

/** Athena's name for the Glue Data Catalog, reported as the table's catalog. */
export const CATALOG_NAME = 'AwsDataCatalog';

/**
 * An endpoint in the shape of Databricks' `GET /api/2.0/serving-endpoints/{name}`,
 * including `auto_capture_config` with the payload table's state.
 */
export function describeEndpoint(config: Config, endpoint: Endpoint, sink: CaptureSink) {
  const database = environmentNames(config.environment, config.database).database;
  const capture = endpoint.capture.enabled
    ? sink.status(endpoint.name)
    : { status: 'DISABLED' as const, message: 'Capture is disabled for this endpoint in the configuration.' };
  return {
    name: endpoint.name,
    id: stableId('endpoint', config.environment, endpoint.name),
    state: { ready: 'READY', config_update: 'NOT_UPDATING' },
    config: {
      served_entities: endpoint.served_entities.map((e) => ({
        name: servedName(e),
        entity_name: e.entity_name,
        entity_version: e.entity_version,
        state: { deployment: 'DEPLOYMENT_READY' },
      })),
      traffic_config: {
        routes: endpoint.served_entities.map((e) => ({ served_model_name: servedName(e), traffic_percentage: e.traffic_percentage })),
      },
      auto_capture_config: {
        catalog_name: CATALOG_NAME,
        schema_name: database,
        table_name_prefix: endpoint.name.replaceAll('-', '_'),
        enabled: endpoint.capture.enabled,
        sampling_fraction: endpoint.capture.sampling_fraction,
        state: {
          payload_table: { name: tableName(endpoint.name, 'payload'), status: capture.status, status_message: capture.message },
        },
      },
    },
  };
}
