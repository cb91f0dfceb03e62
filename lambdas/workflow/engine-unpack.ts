import { randomUUID } from 'node:crypto';
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import type { StoredObject } from '../core/ports.js';
import { tableName } from '../core/names.js';
import { type CapturedRow, PAYLOAD_COLUMNS_READ, PAYLOAD_ROUTING_COLUMNS, type UnpackSummary, addSummary, unpackCapturedRows } from '../core/unpack-batch.js';
import { type SqlUnpack, engineLeftoversSql, engineSummarySql, engineTableSql, sqlEngineRows, sqlUnpackOf, takenBySql } from '../core/unpack-sql.js';
import { type TableRef, literal } from '../core/refresh-sql.js';
import { declaredSignature, widen } from '../core/unpacked-schema.js';
import type { EndpointRun } from '../core/refresh-steps.js';
import { runPrefix, tableRef } from './paths.js';
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
  const read = async () => (await parquetReadObjects({ file, metadata, columns: [...PAYLOAD_COLUMNS_READ] })) as Omit<CapturedRow, 'date'>[];
  if (!sql || !metadata.schema.some((c) => c.name === 'request_format')) return { rows: await read(), engineRows: 0 };
  const routing = (await parquetReadObjects({ file, metadata, columns: [...PAYLOAD_ROUTING_COLUMNS] })) as { status_code: number; request_format: string | null }[];
  const ours = routing.map((r) => !takenBySql(sql, r.status_code, r.request_format));
  const engineRows = ours.filter((o) => !o).length;
  if (engineRows === routing.length) return { rows: [], engineRows };
  return { rows: (await read()).filter((_, i) => ours[i]), engineRows };
}

/** The payload files of an endpoint's run that were read (the quarantined ones left out). */
async function runFiles(deps: RefreshDeps, run: EndpointRun, summary: UnpackSummary): Promise<string[]> {
  const prefix = runPrefix(run.run_id, run.endpoint);
  const quarantined = new Set((summary.quarantined ?? []).map((q) => q.key));
  const files: string[] = [];
  for (const manifest of await deps.store.list(`${prefix}tasks/`)) {
    const task = await readJson<{ files: Pick<StoredObject, 'key'>[] }>(deps.store, manifest.key);
    for (const f of task?.files ?? []) if (!quarantined.has(f.key)) files.push(f.key);
  }
  return files.sort();
}

/** Payload rows of some files, as a FROM item of the environment's engine. */
function payloadSource(deps: RefreshDeps, endpoint: string, files: readonly string[]): string {
  const locations = files.map((f) => literal(deps.store.location(f)));
  if (deps.dialect === 'duckdb') {
    return `read_parquet([${locations.join(', ')}], hive_partitioning = true, hive_types = {'endpoint': VARCHAR, 'date': VARCHAR}, union_by_name = true)`;
  }
  const table = tableName(endpoint, 'payload');
  const dates = [...new Set(files.map((f) => /\/date=(\d{4}-\d{2}-\d{2})\//.exec(f)?.[1]).filter((d): d is string => d !== undefined))];
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
  const signature = declaredSignature(deps.config, run.endpoint);
  const sql = engineUnpackOf(deps, run.endpoint);
  if (!sql || !(summary.engine_rows && summary.engine_rows > 0)) return [];
  const engine = deps.engine;
  if (!engine) throw new Error(`The unpack of ${run.endpoint} needs the environment's query engine, which this step was not given.`);
  const files = await runFiles(deps, run, summary);
  const prefix = runPrefix(run.run_id, run.endpoint);
  const tables: TableRef[] = [];
  const runTag = run.run_id.replace(/[^a-z0-9]/gi, '_').toLowerCase();
  for (let i = 0; i < files.length; i += FILES_PER_SOURCE) {
    const source = payloadSource(deps, run.endpoint, files.slice(i, i + FILES_PER_SOURCE));
    // A new location per attempt: Athena writes a table only into an empty one.
    const name = `${tableName(run.endpoint, 'unpacked')}_engine_${runTag}_${i / FILES_PER_SOURCE}`;
    const location = deps.store.location(`${prefix}engine/${randomUUID()}/`);
    // Athena takes a table's location as a folder only with its trailing slash.
    const table = tableRef(deps, name, location.endsWith('/') ? location : `${location}/`);
    for (const statement of engineTableSql(deps.dialect, table, sqlEngineRows(deps.dialect, sql, source))) await engine.query(statement);
    tables.push(table);
    for (const g of (await engine.query(engineSummarySql(deps.dialect, table))).rows) {
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
    if (left.length > 0) {
      const unpacked = unpackCapturedRows(left, signature);
      const predictions = new GzipJsonLines();
      const rejects = new GzipJsonLines();
      await predictions.writeLines(unpacked.predictions);
      await rejects.write(unpacked.rejects);
      await deps.store.put(`${prefix}predictions/engine-leftovers-${i / FILES_PER_SOURCE}.jsonl.gz`, await predictions.end());
      await deps.store.put(`${prefix}rejects/engine-leftovers-${i / FILES_PER_SOURCE}.jsonl.gz`, await rejects.end());
      addSummary(summary, unpacked.summary);
    }
  }
  return tables;
}

/** The engine's part of an endpoint's unpack: none unless its signature declares every type. */
export function engineUnpackOf(deps: Pick<RefreshDeps, 'config' | 'dialect'>, endpoint: string): SqlUnpack | null {
  return sqlUnpackOf(declaredSignature(deps.config, endpoint), deps.dialect);
}
