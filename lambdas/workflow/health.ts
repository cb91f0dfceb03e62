import { parquetMetadataAsync, parquetSchema } from 'hyparquet';
import { parquetColumns } from '../core/capture-record.js';
import { type HealthCheck, type TableHealth, healthKey, tableHealth } from '../core/health.js';
import { QUARANTINE_PREFIX, tableName } from '../core/names.js';
import type { ObjectStore, QueryEngine } from '../core/ports.js';
import { catalogSchema, conversionSchema } from './deployed-checks.js';
import { ERRORS_PREFIX, refusedRecords } from './delivery-errors.js';
import { readLabelFindings } from './label-checks.js';
import { quarantined, storeReader } from './quarantine.js';
import { compareTraffic } from './repair.js';
import { endpointFailureKey, readEndpointState, readJson, type RefreshDeps, stateKey, writeJson } from './steps.js';

/**
 * The checks of an endpoint's tables, run by every refresh (its last step) and by
 * `inference-tables doctor`. Each names what it found and, when it is not well, the fix.
 */

const minutes = (ms: number) => Math.round(ms / 60_000);

/** The payload table still holds the files the refresh took: a folder moved or deleted empties it. */
async function payloadFiles(store: ObjectStore, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'payload-files';
  const state = await readEndpointState(store, endpoint);
  if (state.files_through === 0 || !state.last_date) return { check, table, status: 'ACTIVE', message: `${table} has had no refresh yet.` };
  // The newest partition a refresh read: cheap to list whatever the table's size.
  const newest = await store.list(`${table}/endpoint=${endpoint}/date=${state.last_date}/`);
  if (newest.some((o) => o.key.endsWith('.parquet'))) return { check, table, status: 'ACTIVE', message: `${table} holds the files of ${state.last_date}.` };
  return {
    check,
    table,
    status: 'FAILED',
    message: `${table} holds no file of ${state.last_date}, though the refresh read files of that day: its files were moved or deleted, and queries of it miss them. Put them back under ${table}/ (on S3, restore the objects' previous versions); the next refresh checks again.`,
  };
}

/** The newest payload file has the capture schema's columns. */
async function payloadSchema(store: ObjectStore, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'payload-schema';
  const state = await readEndpointState(store, endpoint);
  const files = state.last_date ? (await store.list(`${table}/endpoint=${endpoint}/date=${state.last_date}/`)).filter((o) => o.key.endsWith('.parquet')) : [];
  const newest = files.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime())[0];
  if (!newest) return { check, table, status: 'ACTIVE', message: `${table} has no file to check yet.` };
  let columns: string[];
  try {
    columns = parquetSchema(await parquetMetadataAsync(storeReader(store, newest))).children.map((c) => c.element.name);
  } catch (error) {
    return { check, table, status: 'DEGRADED', message: `The newest file of ${table} cannot be read (${(error as Error).message.slice(0, 120)}); the next refresh moves it to ${QUARANTINE_PREFIX}.` };
  }
  const missing = parquetColumns()
    .map((c) => c.name)
    .filter((c) => !columns.includes(c));
  if (missing.length === 0) return { check, table, status: 'ACTIVE', message: `${table}'s files have the capture schema's columns.` };
  return {
    check,
    table,
    status: 'FAILED',
    message: `The newest file of ${table} lacks the capture schema's columns ${missing.join(', ')}: the table's schema was changed outside the product (the Glue table or the Firehose conversion). Redeploy the environment (cdk deploy) to restore it; files written meanwhile stay in the table.`,
  };
}

/** No file of the table waits in the quarantine. */
async function quarantine(store: ObjectStore, table: string): Promise<HealthCheck> {
  const check = 'quarantine';
  const files = await quarantined(store, `${table}/`);
  if (files.length === 0) return { check, table, status: 'ACTIVE', message: `No file of ${table} is in quarantine.`, count: 0 };
  const first = files[0] as (typeof files)[number];
  return {
    check,
    table,
    status: 'DEGRADED',
    count: files.length,
    message: `${files.length} file${files.length === 1 ? '' : 's'} of ${table} could not be read and ${files.length === 1 ? 'is' : 'are'} in ${QUARANTINE_PREFIX}${table}/ (first: ${first.reason.slice(0, 160)}); their requests are in no table. Replace each with a readable copy or delete it there (and its .reason.json); the metrics of its day miss its requests until then.`,
  };
}

/** The endpoint's last commit did not fail. */
async function lastCommit(store: ObjectStore, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'last-refresh';
  const failure = await readJson<{ cause?: string; at?: string }>(store, endpointFailureKey(endpoint));
  if (!failure) return { check, table, status: 'ACTIVE', message: `The last refresh of ${endpoint} succeeded.` };
  return { check, table, status: 'DEGRADED', message: `The last refresh of ${endpoint} failed at ${failure.at ?? 'an unknown time'}: ${(failure.cause ?? 'unknown').slice(0, 300)}. The next run takes its files again; until then its unpacked and metrics tables lag.` };
}

/** A refresh ran recently enough for the schedule (only for `doctor`: the refresh that records health has just run). */
async function freshness(deps: RefreshDeps, endpoint: string, table: string, now: Date): Promise<HealthCheck> {
  const check = 'refresh-schedule';
  const state = (await deps.store.list(stateKey(endpoint))).find((o) => o.key === stateKey(endpoint));
  const every = deps.config.refresh.schedule_minutes;
  if (!state) return { check, table, status: 'ACTIVE', message: `${endpoint} has had no refresh yet.` };
  const age = now.getTime() - state.lastModified.getTime();
  if (!deps.config.refresh.enabled || age <= 2 * every * 60_000 + 60_000) return { check, table, status: 'ACTIVE', message: `The last successful refresh of ${endpoint} was ${minutes(age)} min ago.` };
  return {
    check,
    table,
    status: 'DEGRADED',
    message: `No successful refresh of ${endpoint} for ${minutes(age)} min, though one is scheduled every ${every} min: the schedule is not running or every run fails. Run inference-tables refresh to see why.`,
  };
}

/** No label is refused for its type; labels that match no prediction are told, not feared. */
async function labels(deps: RefreshDeps, endpoint: string): Promise<HealthCheck> {
  const check = 'labels';
  const table = tableName(endpoint, 'labels');
  const found = await readLabelFindings(deps, endpoint);
  if (!found) return { check, table, status: 'ACTIVE', message: `No labels of ${endpoint} checked yet.` };
  const unmatched =
    found.unmatched > 0
      ? `${found.unmatched} label${found.unmatched === 1 ? '' : 's'} of ${endpoint} match no captured prediction (an id mistyped, a request not sampled, or not refreshed yet).`
      : '';
  if (found.refused === 0) return { check, table, status: 'ACTIVE', message: unmatched || `Every label of ${endpoint} fits its predictions.`, ...(unmatched ? { notice: true } : {}) };
  const latest = found.examples[0];
  const example = latest ? ` (latest: ${JSON.stringify(latest.label)} for ${latest.client_request_id} row ${latest.row_index}, uploaded ${latest.uploaded_at})` : '';
  return {
    check,
    table,
    status: 'DEGRADED',
    message: `${found.refused} label${found.refused === 1 ? '' : 's'} of ${endpoint} cannot be read as ${found.prediction_type}, the type of its predictions${example}; they are kept out of ${tableName(endpoint, 'unpacked')} and replaced no good label, so model quality leaves them out. Upload corrected labels for those ids. ${unmatched}`.trim(),
  };
}

/** No record of the endpoint waits under the delivery's error prefix. */
async function deliveryErrors(store: ObjectStore, endpoint: string, table: string): Promise<HealthCheck> {
  const check = 'delivery-errors';
  const refused = await refusedRecords(store, endpoint);
  if (refused.length === 0) return { check, table, status: 'ACTIVE', message: `No record of ${endpoint} waits under ${ERRORS_PREFIX}.`, count: 0 };
  const first = refused[0] as (typeof refused)[number];
  return {
    check,
    table,
    status: 'DEGRADED',
    count: refused.length,
    message:
      `${refused.length} record${refused.length === 1 ? '' : 's'} of ${endpoint} ${refused.length === 1 ? 'was' : 'were'} refused by the Parquet conversion and ${refused.length === 1 ? 'is' : 'are'} in no table (first: ${first.errorCode}: ${first.errorMessage.slice(0, 160)}); kept under ${ERRORS_PREFIX}. ` +
      `Fix the cause (a Glue table edited by hand: cdk deploy) and run 'inference-tables repair' to replay them.`,
  };
}

/** Whether the payload table still holds every request the unpacked table and the metrics counted (`doctor`, with a query engine). */
async function coverage(deps: RefreshDeps & { readonly engine: QueryEngine }, endpoint: string, table: string, now: Date): Promise<HealthCheck> {
  const check = 'payload-coverage';
  const windows = await compareTraffic(deps, endpoint, now);
  const missing = windows.filter((w) => w.unpacked_without_payload > 0 || w.found < w.recorded);
  if (missing.length > 0) {
    const first = missing[0] as (typeof missing)[number];
    return {
      check,
      table,
      status: 'FAILED',
      count: missing.length,
      message:
        `${missing.length} metrics window${missing.length === 1 ? '' : 's'} of ${endpoint} hold${missing.length === 1 ? 's' : ''} requests ${table} no longer has (first: ${first.window_start}, ${first.recorded} requests counted, ${first.found} found): ` +
        `its files are missing (a folder moved or renamed, files deleted). Put them back and run 'inference-tables repair', or accept the loss with 'inference-tables repair --accept-missing'.`,
    };
  }
  if (windows.length > 0) {
    return { check, table, status: 'DEGRADED', count: windows.length, message: `${windows.length} metrics window${windows.length === 1 ? '' : 's'} of ${endpoint} counted fewer requests than ${table} holds now (files came back): run 'inference-tables repair' to recompute them.` };
  }
  return { check, table, status: 'ACTIVE', message: `${table} holds every request its metrics counted.` };
}

/**
 * Runs the checks of an endpoint's tables.
 * @param schedule also check that refreshes keep to the schedule (`doctor`; a refresh has just run otherwise)
 */
export async function checkEndpoint(deps: RefreshDeps, endpoint: string, options: { readonly schedule: boolean }): Promise<TableHealth> {
  const now = deps.now?.() ?? new Date();
  const table = tableName(endpoint, 'payload');
  const checks = await Promise.all([
    payloadFiles(deps.store, endpoint, table),
    payloadSchema(deps.store, endpoint, table),
    quarantine(deps.store, table),
    deliveryErrors(deps.store, endpoint, table),
    lastCommit(deps.store, endpoint, table),
    labels(deps, endpoint),
    ...(options.schedule ? [freshness(deps, endpoint, table, now)] : []),
    ...(options.schedule && deps.engine ? [coverage({ ...deps, engine: deps.engine }, endpoint, table, now)] : []),
    ...(options.schedule && deps.engine && deps.dialect === 'athena' ? [catalogSchema({ ...deps, engine: deps.engine }, endpoint, table)] : []),
    ...(options.schedule && deps.streams ? [conversionSchema({ ...deps, streams: deps.streams }, endpoint, table)] : []),
  ]);
  return tableHealth(endpoint, checks, now);
}

/** Runs the checks and records the result where the endpoint API reads it. */
export async function recordHealth(deps: RefreshDeps, endpoint: string, options: { readonly schedule: boolean }): Promise<TableHealth> {
  const health = await checkEndpoint(deps, endpoint, options);
  await writeJson(deps.store, healthKey(endpoint), health);
  return health;
}
