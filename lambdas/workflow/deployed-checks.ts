import type { HealthCheck } from '../core/health.js';
import { type GlueType, payloadColumns } from '../core/capture-record.js';
import type { DeliveryStreams, QueryEngine } from '../core/ports.js';
import { literal } from '../core/refresh-sql.js';
import { ERRORS_PREFIX } from './delivery-errors.js';
import type { RefreshDeps } from './steps.js';

/**
 * Checks only a deployed environment has (`doctor --env`): what Firehose converts records with,
 * the Glue table and the stream's reading of it, since an edit to either sends every record to
 * the error prefix or drops columns, with no failed request to show for it.
 */

const REDEPLOY = "Redeploy the environment (cdk deploy) to restore it, then run 'inference-tables repair' to replay the records it refused.";

/** How Athena's information_schema spells each Glue type of the capture schema. */
const CATALOG_TYPES: Readonly<Record<GlueType, string>> = {
  string: 'varchar',
  int: 'integer',
  bigint: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp(3)',
  'map<string,string>': 'map(varchar, varchar)',
  'array<string>': 'array(varchar)',
};

/** The deployed Glue table has the capture schema's columns and types (`doctor --env`): what Firehose converts records with. */
export async function catalogSchema(deps: RefreshDeps & { readonly engine: QueryEngine }, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'catalog-schema';
  const rows = (
    await deps.engine.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ${literal(deps.database ?? '')} AND table_name = ${literal(table)}`,
    )
  ).rows;
  const found = new Map(rows.map((r) => [String(r.column_name), String(r.data_type).toLowerCase()]));
  if (found.size === 0) {
    return { check, table, status: 'FAILED', message: `The Glue table ${deps.database}.${table} does not exist: records of ${endpoint} cannot be converted and go to ${ERRORS_PREFIX}. Redeploy the environment (cdk deploy) to create it again, then run 'inference-tables repair' to replay them.` };
  }
  const wrong = payloadColumns.flatMap((c) => {
    const type = found.get(c.name);
    if (type === undefined) return [`${c.name} is missing`];
    const expected = CATALOG_TYPES[c.glueType];
    return type.replace(/\s+/g, '') === expected.replace(/\s+/g, '') || (c.glueType === 'timestamp' && type.startsWith('timestamp')) ? [] : [`${c.name} is ${type}, not ${expected}`];
  });
  if (wrong.length === 0) return { check, table, status: 'ACTIVE', message: `The Glue table ${table} has the capture schema.` };
  return {
    check,
    table,
    status: 'FAILED',
    message: `The Glue table ${deps.database}.${table} differs from the capture schema (${wrong.join('; ')}): it was edited outside the product, and Firehose converts records with it. ${REDEPLOY}`,
  };
}

/** Each delivery stream of the endpoint is active and converts to Parquet with the endpoint's Glue table, at its latest version. */
export async function conversionSchema(deps: RefreshDeps & { readonly streams: DeliveryStreams }, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'conversion-schema';
  const problems = (await deps.streams.conversions(endpoint)).flatMap((s) => {
    if (!s.exists) return [{ failed: true, text: `the delivery stream ${s.stream} does not exist (requests of ${endpoint} are answered and their records spilled)` }];
    if (s.status !== undefined && s.status !== 'ACTIVE') {
      return [{ failed: s.status !== 'CREATING' && s.status !== 'UPDATING', text: `the delivery stream ${s.stream} is ${s.status}${s.failure ? ` (${s.failure})` : ''}` }];
    }
    if (!s.converts) return [{ failed: true, text: `${s.stream} does not convert records to Parquet, so it writes files no query of ${table} can read` }];
    if (s.table !== table || (deps.database !== undefined && s.database !== deps.database)) {
      return [{ failed: true, text: `${s.stream} converts with ${s.database}.${s.table}, not ${deps.database}.${table}` }];
    }
    if (s.versionId !== undefined && s.versionId !== 'LATEST') {
      return [{ failed: true, text: `${s.stream} converts with version ${s.versionId} of ${table}, not LATEST, so columns the capture schema gained since are dropped from every record` }];
    }
    return [];
  });
  if (problems.length === 0) return { check, table, status: 'ACTIVE', message: `The delivery streams of ${endpoint} convert records with the latest ${table}.` };
  return {
    check,
    table,
    status: problems.some((p) => p.failed) ? 'FAILED' : 'DEGRADED',
    message: `${problems.map((p) => p.text).join('; ')}. ${problems.some((p) => p.failed) ? "Redeploy the environment (cdk deploy) to restore the streams, then run 'inference-tables repair' to send the spilled records again." : 'Wait for the stream to become ACTIVE and run doctor again.'}`,
  };
}
