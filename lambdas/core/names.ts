/**
 * Names that reach table names, S3 keys, file paths and SQL. One strict pattern for all of
 * them, checked before use, so a request can never steer a path or a query.
 */

/** Endpoint and registered-model names: lowercase letters, digits, `-` and `_`, 1–63 chars. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Capture partition for invocations whose endpoint or model does not exist. */
export const UNROUTED_ENDPOINT = 'unrouted';

/** The kinds of table kept per endpoint. */
export type TableKind = 'payload' | 'unpacked' | 'profile_metrics' | 'drift_metrics';

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
