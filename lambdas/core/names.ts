import { createHash } from 'node:crypto';
/**
 * Names that reach table names, S3 keys, file paths and SQL. One strict pattern for all of
 * them, checked before use, so a request can never steer a path or a query.
 */

/** Endpoint and registered-model names: lowercase letters, digits, `-` and `_`, 1–63 chars. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Capture partition for invocations whose endpoint or model does not exist. */
export const UNROUTED_ENDPOINT = 'unrouted';

/** Prefix of the environment bucket where Athena writes query results (and the metrics step unloads). */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

/** Where files a refresh could not read are moved, under their table's key: out of every query, kept for a repair. */
export const QUARANTINE_PREFIX = '_quarantine/';

/** The kinds of table kept per endpoint. */
export type TableKind = 'payload' | 'unpacked' | 'unpack_errors' | 'labels' | 'label_rejects' | 'recompute_windows' | 'profile_metrics' | 'drift_metrics' | 'alerts';

/** True when `name` may be used as an endpoint or model name. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/**
 * Table name for an endpoint: `-` becomes `_` (Glue/Athena table names allow no dash).
 * @example tableName('iris-classifier', 'payload') === 'iris_classifier_payload'
 */
export function tableName(endpoint: string, kind: TableKind): string {
  if (!isValidName(endpoint)) throw new Error(`Invalid endpoint name '${endpoint}': must match ${NAME_PATTERN}`);
  return `${endpoint.replaceAll('-', '_')}_${kind}`;
}

/** Names of an environment's AWS resources, shared by the CDK app and the CLI that reads them. */
export interface EnvironmentNames {
  /** CloudFormation stack. */
  readonly stack: string;
  /** Glue database. */
  readonly database: string;
  /** Athena workgroup. */
  readonly workgroup: string;
  /** DynamoDB table of the serving state. */
  readonly servingTable: string;
}

/** Names of an environment's resources; `database` overrides the default Glue database name. */
export function environmentNames(environment: string, database?: string): EnvironmentNames {
  return {
    stack: `inference-tables-${environment}`,
    database: database ?? `inference_tables_${environment.replaceAll('-', '_')}`,
    workgroup: `inference-tables-${environment}`,
    servingTable: `inference-tables-${environment}-serving`,
  };
}

/** Firehose delivery stream names are at most 64 characters. */
const STREAM_NAME_MAX = 64;

/**
 * The delivery streams of one endpoint, `inference-tables-<env>-<endpoint>[-<shard>]`; a name
 * too long for Firehose is cut and ends with a hash of the whole, so it stays unique.
 */
export function captureStreamNames(environment: string, endpoint: string, shards = 1): string[] {
  return Array.from({ length: shards }, (_, i) => {
    const full = `inference-tables-${environment}-${endpoint}${shards > 1 ? `-${i + 1}` : ''}`;
    if (full.length <= STREAM_NAME_MAX) return full;
    const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
    return `${full.slice(0, STREAM_NAME_MAX - hash.length - 1)}-${hash}`;
  });
}
