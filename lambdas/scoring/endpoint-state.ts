import type { DeploymentState } from '../core/backend-health.js';
import { type Config, type Endpoint, servedName } from '../core/config/index.js';
import { stableId } from '../core/hash.js';
import { environmentNames, tableName } from '../core/names.js';
import type { TableHealth } from '../core/health.js';
import type { CaptureSink, CaptureStatus } from '../core/ports.js';

/** Reads the recorded health of an endpoint's tables (written by every refresh and by `doctor`). */
export type HealthReader = (endpoint: string) => Promise<TableHealth | undefined>;

/** The deployment state of a served entity of an endpoint (backend probe and recent calls). */
export type DeploymentReader = (endpoint: string, served: string) => Promise<DeploymentState>;

/** Athena's name for the Glue Data Catalog, reported as the table's catalog. */
export const CATALOG_NAME = 'AwsDataCatalog';

/**
 * An endpoint in the shape of Databricks' `GET /api/2.0/serving-endpoints/{name}`,
 * including `auto_capture_config` with the payload table's state. Each served entity's
 * `state.deployment` is what `deployment` reads (ready when not given); the endpoint is
 * READY when a served entity with traffic is, else NOT_READY.
 */
export async function describeEndpoint(config: Config, endpoint: Endpoint, sink: CaptureSink, health?: HealthReader, deployment?: DeploymentReader, configVersion = 1) {
  const database = environmentNames(config.environment, config.database).database;
  const [capture, states] = await Promise.all([
    payloadTableState(endpoint, sink, health),
    Promise.all(endpoint.served_entities.map((e) => deployment?.(endpoint.name, servedName(e)) ?? { deployment: 'DEPLOYMENT_READY' as const })),
  ]);
  const ready = endpoint.served_entities.some((e, i) => e.traffic_percentage > 0 && states[i]?.deployment === 'DEPLOYMENT_READY');
  return {
    name: endpoint.name,
    id: stableId('endpoint', config.environment, endpoint.name),
    state: { ready: ready ? 'READY' : 'NOT_READY', config_update: 'NOT_UPDATING' },
    config: {
      config_version: configVersion,
      served_entities: endpoint.served_entities.map((e, i) => ({
        name: servedName(e),
        entity_name: e.entity_name,
        entity_version: e.entity_version,
        state: states[i],
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

/**
 * The payload table's state: DISABLED when capture is off; FAILED when delivery fails;
 * otherwise the health the last check recorded (DEGRADED or FAILED with the cause and the fix),
 * else ACTIVE.
 */
async function payloadTableState(endpoint: Endpoint, sink: CaptureSink, health: HealthReader | undefined): Promise<CaptureStatus> {
  if (!endpoint.capture.enabled) return { status: 'DISABLED', message: 'Capture is disabled for this endpoint in the configuration.' };
  const delivery = sink.status(endpoint.name);
  if (delivery.status === 'FAILED') return delivery;
  let recorded: TableHealth | undefined;
  try {
    recorded = await health?.(endpoint.name);
  } catch (error) {
    return { status: delivery.status, message: `${delivery.message} The tables' health could not be read: ${(error as Error).message.slice(0, 160)}.` };
  }
  if (!recorded) return { status: delivery.status, message: `${delivery.message} No refresh has checked the tables yet.` };
  if (recorded.status === 'ACTIVE') return { status: delivery.status, message: `${delivery.message} ${recorded.message}` };
  return { status: recorded.status, message: `${recorded.message} (checked at ${recorded.checked_at})` };
}
