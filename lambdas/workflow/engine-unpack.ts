import { randomUUID } from 'node:crypto';
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { StoredObject } from '../core/ports.js';
import { tableName } from '../core/names.js';
import { asError } from '../core/errors.js';
import { log } from '../core/log.js';
import { type CapturedRow, PAYLOAD_CALL_COLUMNS, PAYLOAD_COLUMNS_READ, PAYLOAD_ROUTING_COLUMNS, type UnpackSummary, addSummary, unpackCapturedRows } from '../core/unpack-batch.js';
import { PARQUET_ROW_ID, type SqlUnpack, engineLeftoversSql, engineSummarySql, engineTableStatements, sqlUnpackOf, takenBySql } from '../core/unpack-sql.js';
import { type TableRef, literal } from '../core/refresh-sql.js';
import { declaredSignature, widen } from '../core/unpacked-schema.js';
import type { EndpointRun } from '../core/refresh-steps.js';
import { partitionDate, runPrefix, tableRef } from './paths.js';
import { storeReader } from './quarantine.js';
import { GzipJsonLines, type RefreshDeps, readJson } from './steps.js';

/**
 * The two halves of the unpack. An unpack task reads only the routing columns of a file first
 * and leaves to the engine the rows it takes (`takenBySql`): their bodies are never read into
 * JavaScript. The engine's half runs at commit: its predictions go straight into the unpacked
 * table by the commit's MERGE, read from the payload files; what it counts joins the run's
 * summary, and the requests it leaves are unpacked here by the JavaScript unpacker.
 */

/** A statement's text stays far below Athena's 256 KiB limit with this many file paths in it. */
const FILES_PER_SOURCE = 400;

/** The payload rows of a file the JavaScript unpacker reads, and how many it leaves to the engine. */
export async function rowsForJavaScript(file: AsyncBuffer, sql: SqlUnpack | null): Promise<{ rows: Omit<CapturedRow, 'date'>[]; engineRows: number }> {
  const metadata = await parquetMetadataAsync(file);
  const columns = columnsRead(metadata);
  const read = async () => (await parquetReadObjects({ file, metadata, columns })) as Omit<CapturedRow, 'date'>[];
  if (!sql || !metadata.schema.some((c) => c.name === 'request_format')) return { rows: await read(), engineRows: 0 };
  const routing = (await parquetReadObjects({ file, metadata, columns: [...PAYLOAD_ROUTING_COLUMNS] })) as { status_code: number; request_format: string | null }[];
  const ours = routing.map((r) => !takenBySql(sql, r.status_code, r.request_format));
  const engineRows = ours.filter((o) => !o).length;
  if (engineRows === routing.length) return { rows: [], engineRows };
  return { rows: (await read()).filter((_, i) => ours[i]), engineRows };
}

/** The columns the JavaScript unpacker reads from a file: those it needs, and the call's facts when the file has them. */
function columnsRead(metadata: FileMetaData): string[] {
  const present = new Set(metadata.schema.map((c) => c.name));
  return [...PAYLOAD_COLUMNS_READ, ...PAYLOAD_CALL_COLUMNS.filter((c) => present.has(c))];
}

type ManifestFile = Omit<StoredObject, 'lastModified'> & { lastModified: string };

/** The payload files of an endpoint's run that were read (the quarantined ones left out). */
async function runFiles(deps: RefreshDeps, run: EndpointRun, summary: UnpackSummary): Promise<ManifestFile[]> {
  const prefix = runPrefix(run.run_id, run.endpoint);
  const quarantined = new Set((summary.quarantined ?? []).map((q) => q.key));
  const files: ManifestFile[] = [];
  for (const manifest of await deps.store.list(`${prefix}tasks/`)) {
    const task = await readJson<{ files: ManifestFile[] }>(deps.store, manifest.key);
    for (const f of task?.files ?? []) if (!quarantined.has(f.key)) files.push(f);
  }
  return files.sort((a, b) => a.key.localeCompare(b.key));
}

/** The rows of these files the unpack tasks left to the engine, read back for the JavaScript unpacker. */
async function engineRowsOf(deps: RefreshDeps, files: readonly ManifestFile[], sql: SqlUnpack): Promise<CapturedRow[]> {
  const rows: CapturedRow[] = [];
  for (const f of files) {
    const file = storeReader(deps.store, { ...f, lastModified: new Date(f.lastModified) });
    const date = partitionDate(f.key) as string;
    const metadata = await parquetMetadataAsync(file);
    const all = (await parquetReadObjects({ file, metadata, columns: [...columnsRead(metadata), 'request_format'] })) as (Omit<CapturedRow, 'date'> & { request_format: string | null })[];
    for (const r of all) if (takenBySql(sql, r.status_code, r.request_format)) rows.push({ ...r, date });
  }
  return rows;
}

/** Unpacks rows with the JavaScript unpacker into the run's staged rows, and counts them in `summary`. */
async function stageInJavaScript(deps: RefreshDeps, run: EndpointRun, rows: readonly CapturedRow[], name: string, summary: UnpackSummary): Promise<void> {
  if (rows.length === 0) return;
  const prefix = runPrefix(run.run_id, run.endpoint);
  const unpacked = unpackCapturedRows(rows, declaredSignature(deps.config, run.endpoint));
  const predictions = new GzipJsonLines();
  const rejects = new GzipJsonLines();
  await predictions.writeLines(unpacked.predictions);
  await rejects.write(unpacked.rejects);
  await deps.store.put(`${prefix}predictions/${name}.jsonl.gz`, await predictions.end());
  await deps.store.put(`${prefix}rejects/${name}.jsonl.gz`, await rejects.end());
  addSummary(summary, unpacked.summary);
}

/** Payload rows of some files, as a FROM item of the environment's engine. */
function payloadSource(deps: RefreshDeps, endpoint: string, files: readonly string[]): string {
  const locations = files.map((f) => literal(deps.store.location(f)));
  if (deps.dialect === 'duckdb') {
    return `read_parquet([${locations.join(', ')}], hive_partitioning = true, hive_types = {'endpoint': VARCHAR, 'date': VARCHAR}, union_by_name = true)`;
  }
  const table = tableName(endpoint, 'payload');
  const dates = [...new Set(files.map((f) => partitionDate(f)).filter((d): d is string => d !== undefined))];
  // The partition filter prunes the listing; "$path" keeps exactly the run's files.
  return `(SELECT * FROM ${tableRef(deps, table, deps.store.location(`${table}/`)).sql} WHERE "date" IN (${dates.map(literal).join(', ')}) AND "$path" IN (${locations.join(', ')}))`;
}

/**
 * Runs the engine's half of an endpoint's unpack: stores its rows once per group of files, adds
 * what it unpacked to `summary`, unpacks the requests it leaves with the JavaScript unpacker into
 * the run's staged rows, and returns the tables the commit merges and drops (none when the
 * tasks left it nothing).
 */
export async function unpackInEngine(deps: RefreshDeps, run: EndpointRun, summary: UnpackSummary): Promise<TableRef[]> {
  const sql = engineUnpackOf(deps, run.endpoint);
  if (!sql || !(summary.engine_rows && summary.engine_rows > 0)) return [];
  const engine = deps.engine;
  if (!engine) throw new Error(`The unpack of ${run.endpoint} needs the environment's query engine, which this step was not given.`);
  const files = await runFiles(deps, run, summary);
  const prefix = runPrefix(run.run_id, run.endpoint);
  const tables: TableRef[] = [];
  const runTag = run.run_id.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  for (let i = 0; i < files.length; i += FILES_PER_SOURCE) {
    const chunk = files.slice(i, i + FILES_PER_SOURCE);
    const index = i / FILES_PER_SOURCE;
    const source = payloadSource(
      deps,
      run.endpoint,
      chunk.map((f) => f.key),
    );
    // A new location per attempt: Athena writes a table only into an empty one.
    const location = deps.store.location(`${prefix}engine/${randomUUID()}/`);
    // Athena takes a table's location as a folder only with its trailing slash.
    const table = tableRef(deps, `${tableName(run.endpoint, 'unpacked')}_engine_${runTag}_${index}`, location.endsWith('/') ? location : `${location}/`);
    try {
      for (const statement of engineTableStatements(deps.dialect, sql, source, table, deps.dialect === 'duckdb' ? PARQUET_ROW_ID : undefined)) await (engine.native ?? engine.query).call(engine, statement);
    } catch (error) {
      // Whatever the engine could not do, the JavaScript unpacker does: a refresh never stops on it.
      log('warn', 'the engine could not unpack these payload files; the JavaScript unpacker takes their rows', { endpoint: run.endpoint, run: run.run_id, files: chunk.length, error: asError(error) });
      await stageInJavaScript(deps, run, await engineRowsOf(deps, chunk, sql), `engine-fallback-${index}`, summary);
      continue;
    }
    tables.push(table);
    for (const g of (await (engine.native ?? engine.query).call(engine, engineSummarySql(deps.dialect, table))).rows) {
      const predictions = Number(g.predictions);
      summary.requests += Number(g.requests);
      summary.predictions += predictions;
      if (predictions > 0) {
        summary.dates = [...new Set([...summary.dates, String(g.date)])].sort();
        summary.hours = [...new Set([...summary.hours, Number(g.hour)])].sort((a, b) => a - b);
        summary.max_timestamp_ms = Math.max(summary.max_timestamp_ms, Number(g.max_timestamp_ms));
        summary.prediction_type = widen(summary.prediction_type, sql.outcome);
      }
    }
    const left = (await engine.query(engineLeftoversSql(table))).rows.map(
      (r): CapturedRow => ({
        request_id: String(r.request_id),
        client_request_id: r.client_request_id === null || r.client_request_id === undefined ? null : String(r.client_request_id),
        timestamp_ms: Number(r.timestamp_ms),
        status_code: Number(r.status_code),
        request: (r.request ?? null) as string | null,
        response: (r.response ?? null) as string | null,
        request_metadata: { model_name: String(r.model_name ?? ''), model_version: String(r.model_version ?? '') },
        date: String(r.date),
      }),
    );
    await stageInJavaScript(deps, run, left, `engine-leftovers-${index}`, summary);
  }
  return tables;
}

/** The engine's part of an endpoint's unpack: none unless its signature declares every type. */
export function engineUnpackOf(deps: Pick<RefreshDeps, 'config' | 'dialect'>, endpoint: string): SqlUnpack | null {
  return sqlUnpackOf(declaredSignature(deps.config, endpoint), deps.dialect);
}
