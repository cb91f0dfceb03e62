import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, type DuckDBInstance, DuckDBTypeId, JSDuckDBValueConverter } from '@duckdb/node-api';
import { UNROUTED_ENDPOINT, tableName } from '../../core/names.js';
import { type ColumnarResult, type QueryEngine, QueryError, type QueryResult } from '../../core/ports.js';
import { athenaToLocalSql } from '../../core/sql-dialect.js';
import type { Config } from '../../core/config/index.js';
import { ATHENA_MACROS } from './athena-functions.js';
import { openDuckDb, sqlIdent, sqlString } from './duckdb.js';
import { WAREHOUSE_FILE, labelsViewSql, readablePayloadViewSql, servedEntitiesViewsSql } from './warehouse.js';
import { SERVED_ENTITIES_HISTORY, SERVED_ENTITIES_VIEW } from '../../core/served-entities.js';
import { USAGE_VIEW, usageViewQuery } from '../../core/usage-view.js';

/** How long to wait for a refresh that holds the warehouse. */
const WAREHOUSE_WAIT_MS = 30_000;

async function attachWarehouse(connection: DuckDBConnection, path: string): Promise<void> {
  const deadline = Date.now() + WAREHOUSE_WAIT_MS;
  for (;;) {
    try {
      await connection.run(`ATTACH ${sqlString(path)} AS warehouse (READ_ONLY)`);
      return;
    } catch (error) {
      // A refresh holds the file for the seconds of its commit.
      if (!/lock/i.test((error as Error).message) || Date.now() > deadline) {
        throw new QueryError(`cannot open the unpacked tables in ${path}: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}


const TABLE_DIR = /^[a-z0-9_]+_payload$/;

/**
 * The embedded SQL engine over the local tables: one view per payload table, named like the
 * Glue table (`iris_payload`), with partition columns `endpoint` and `date`, and the Athena
 * functions users type. Configured endpoints get a view even before their first file.
 */
export class LocalQueryEngine implements QueryEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    /** The views created, by name. */
    public readonly tables: readonly string[],
  ) {}

  public static async open(dataDir: string, config?: Config): Promise<LocalQueryEngine> {
    const { instance, connection } = await openDuckDb();
    for (const macro of ATHENA_MACROS) await connection.run(macro);
    const names = new Set<string>([tableName(UNROUTED_ENDPOINT, 'payload')]);
    for (const e of config?.endpoints ?? []) names.add(tableName(e.name, 'payload'));
    for (const m of config?.models ?? []) names.add(tableName(m.name, 'payload'));
    if (existsSync(dataDir)) {
      for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
        if (entry.isDirectory() && TABLE_DIR.test(entry.name)) names.add(entry.name);
      }
    }
    for (const name of names) await connection.run(readablePayloadViewSql(dataDir, name));
    const served = [...new Set([...(config?.endpoints ?? []).map((e) => e.name), ...(config?.models ?? []).map((m) => m.name)])];
    for (const endpoint of served) {
      await connection.run(labelsViewSql(dataDir, endpoint));
      names.add(tableName(endpoint, 'labels'));
    }
    if (served.length > 0) {
      await connection.run(`CREATE OR REPLACE VIEW ${USAGE_VIEW} AS ${usageViewQuery(served.map((e) => sqlIdent(tableName(e, 'payload'))))}`);
      names.add(USAGE_VIEW);
    }
    for (const sql of servedEntitiesViewsSql(dataDir)) await connection.run(sql);
    names.add(SERVED_ENTITIES_HISTORY).add(SERVED_ENTITIES_VIEW);
    const warehouse = join(dataDir, WAREHOUSE_FILE);
    if (existsSync(warehouse)) {
      await attachWarehouse(connection, warehouse);
      const tables = await connection.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse'`);
      for (const [table] of tables.getRows() as [string][]) {
        await connection.run(`CREATE OR REPLACE VIEW ${sqlIdent(table)} AS SELECT * FROM warehouse.main.${sqlIdent(table)}`);
        names.add(table);
      }
    }
    return new LocalQueryEngine(instance, connection, [...names].sort());
  }

  /** Runs one SQL statement and reads all rows. */
  public query(sql: string): Promise<QueryResult> {
    return queryConnection(this.db, sql);
  }

  public queryColumns(sql: string): Promise<ColumnarResult> {
    return queryConnectionColumns(this.db, sql);
  }

  public close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}

/** Runs one statement (Athena dialect) on a DuckDB connection and reads all rows as JSON values. */
async function queryConnection(db: DuckDBConnection, sql: string): Promise<QueryResult> {
  try {
    const reader = await db.runAndReadAll(athenaToLocalSql(sql));
    const columns = reader.columnNames();
    const convert = reader.columnTypes().map((t) => converterFor(t.typeId));
    const rows = reader.getRowObjectsJson().map((row) => {
      const out: Record<string, unknown> = {};
      columns.forEach((c, i) => (out[c] = (convert[i] as (v: unknown) => unknown)(row[c])));
      return out;
    });
    return { columns, rows };
  } catch (error) {
    throw new QueryError((error as Error).message, { cause: error });
  }
}

/** A value as the ports give it: 64-bit integers as numbers when exact, lists element by element. */
const toJs = (v: unknown): unknown => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : Array.isArray(v) ? v.map(toJs) : v);

/**
 * Runs one statement and reads it by column: numbers as numbers, 64-bit integers as numbers
 * when exact. A DOUBLE column is read straight into a typed array, so millions of values
 * (the metrics' rows of a continuous feature) make no garbage; one with a NULL becomes a list.
 */
async function queryConnectionColumns(db: DuckDBConnection, sql: string): Promise<ColumnarResult> {
  try {
    const result = await db.run(athenaToLocalSql(sql));
    const types = result.columnTypes();
    const data: (unknown[] | Float64Array)[] = types.map((t) => (t.typeId === DuckDBTypeId.DOUBLE ? new Float64Array(result.rowCount) : []));
    let at = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const n = chunk.rowCount;
      data.forEach((column, c) => {
        if (column instanceof Float64Array) {
          const vector = chunk.getColumnVector(c);
          let k = 0;
          for (; k < n; k++) {
            const x = vector.getItem(k) as number | null;
            if (x === null) break;
            column[at + k] = x;
          }
          if (k === n) return;
          // A NULL: the column as a list from here on.
          const list: unknown[] = Array.from(column.subarray(0, at + k));
          for (; k < n; k++) list.push(vector.getItem(k));
          data[c] = list;
          return;
        }
        for (const v of chunk.convertColumnValues(c, JSDuckDBValueConverter)) column.push(toJs(v));
      });
      at += n;
    }
    return { columns: result.columnNames(), data };
  } catch (error) {
    throw new QueryError((error as Error).message, { cause: error });
  }
}

/** A query engine over an open connection (the refresh's warehouse); closing it is the owner's job. */
export function connectionEngine(db: DuckDBConnection): QueryEngine {
  return { query: (sql) => queryConnection(db, sql), queryColumns: (sql) => queryConnectionColumns(db, sql), close: () => undefined };
}

const INTEGER_TYPES = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/** JSON values as users expect them: maps as objects, 64-bit integers as numbers when exact. */
function converterFor(typeId: DuckDBTypeId): (value: unknown) => unknown {
  if (typeId === DuckDBTypeId.MAP) {
    return (v) => (Array.isArray(v) ? Object.fromEntries((v as { key: unknown; value: unknown }[]).map((e) => [String(e.key), e.value])) : v);
  }
  if (INTEGER_TYPES.has(typeId)) {
    return (v) => (typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v);
  }
  return (v) => v;
}
