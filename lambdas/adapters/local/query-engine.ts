import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBArrayType, type DuckDBConnection, type DuckDBInstance, DuckDBListType, type DuckDBResultReader, DuckDBMapType, DuckDBStructType, type DuckDBType, DuckDBTypeId, JSDuckDBValueConverter } from '@duckdb/node-api';
import { UNROUTED_ENDPOINT, tableName } from '../../core/names.js';
import { type ColumnarResult, type QueryEngine, QueryError, type QueryResult, toColumns } from '../../core/ports.js';
import type { Config } from '../../core/config/index.js';
import { ATHENA_MACROS, registerAthenaFunctions } from './athena-functions.js';
import { describeCatalog, pathViewName, readCatalog } from './athena-catalog.js';
import { openDuckDb, sqlIdent, sqlString } from './duckdb.js';
import { WAREHOUSE_FILE, labelsViewSql, payloadViewSql, readablePayloadViewSql, servedEntitiesViewsSql } from './warehouse.js';
import { type Catalog, type Translation, translateAthenaSql } from '../../core/athena-sql/translate.js';
import { SqlSyntaxError } from '../../core/athena-sql/parse.js';
import { TranslationError } from '../../core/athena-sql/functions.js';
import { environmentNames } from '../../core/names.js';
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

/** The database the local tables are qualified by when no configuration names one. */
const LOCAL_DATABASE = environmentNames('local').database;

/**
 * The embedded SQL engine over the local tables: one view per payload table, named like the
 * Glue table (`iris_payload`), with partition columns `endpoint` and `date`. It takes Athena's
 * SQL: each statement is parsed with Trino's grammar and translated (`core/athena-sql`), so a
 * query answers what Athena would, or fails naming what the local engine cannot do.
 * Configured endpoints get a view even before their first file.
 */
export class LocalQueryEngine implements QueryEngine {
  private readonly pathViews = new Set<string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    /** The views created, by name. */
    public readonly tables: readonly string[],
    private readonly catalog: Catalog,
    private readonly dataDir: string,
  ) {}

  /**
   * @param options.confined for SQL from a browser: DuckDB may then read files in the data
   *   folder only, write none, attach, install or load nothing, and its settings are locked,
   *   behind the translator's own refusals
   */
  public static async open(dataDir: string, config?: Config, options: { confined?: boolean } = {}): Promise<LocalQueryEngine> {
    const { instance, connection } = await openDuckDb();
    // Athena's session: UTC, and integers divide to an integer.
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run('SET integer_division = true');
    registerAthenaFunctions(connection);
    // One batch: a round trip per macro was a third of opening an engine.
    await connection.run(ATHENA_MACROS.join(';\n'));
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
    const iceberg = new Set<string>();
    if (existsSync(warehouse)) {
      await attachWarehouse(connection, warehouse);
      const tables = await connection.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse'`);
      for (const [table] of tables.getRows() as [string][]) {
        await connection.run(`CREATE OR REPLACE VIEW ${sqlIdent(table)} AS SELECT * FROM warehouse.main.${sqlIdent(table)}`);
        names.add(table);
        iceberg.add(table);
      }
    }
    if (options.confined) {
      await connection.run(`SET allowed_directories = [${sqlString(dataDir)}]`);
      await connection.run('SET enable_external_access = false');
      await connection.run('SET lock_configuration = true');
    }
    const tables = [...names].sort();
    const database = config ? environmentNames(config.environment, config.database).database : LOCAL_DATABASE;
    return new LocalQueryEngine(instance, connection, tables, await readCatalog(connection, database, tables, { iceberg }), dataDir);
  }

  /**
   * What the engine makes of one Athena statement: the DuckDB query it runs, or the SHOW it answers.
   * @throws QueryError naming the syntax error (with its line and column) or the form the engine cannot run
   */
  public translation(sql: string): Translation {
    return translateForEngine(sql, this.catalog);
  }

  /** Translates one Athena statement: a query for DuckDB, or a SHOW answered from the catalog. */
  private async translate(sql: string): Promise<{ sql: string } | { answer: QueryResult }> {
    const translation = this.translation(sql);
    if (translation.kind !== 'query') return { answer: describeCatalog(this.catalog, translation, this.dataDir) };
    for (const table of this.catalog.tables.keys()) {
      const view = pathViewName(table);
      if (!this.pathViews.has(view) && translation.sql.includes(sqlIdent(view))) {
        await this.db.run(payloadViewSql(this.dataDir, table, false, undefined, true));
        this.pathViews.add(view);
      }
    }
    return { sql: translation.sql };
  }

  /** Runs one Athena statement and reads all rows. */
  public async query(sql: string): Promise<QueryResult> {
    const t = await this.translate(sql);
    return 'answer' in t ? t.answer : queryConnection(this.db, t.sql);
  }

  /**
   * Runs one Athena statement for a reader who looks at its first rows (the SQL console): at
   * most `maxRows` rows, `truncated` when there were more, stopped after `timeoutMs`.
   * @throws QueryError naming the problem, or the time limit
   */
  public async preview(sql: string, limits: { readonly maxRows: number; readonly timeoutMs: number }): Promise<QueryResult & { readonly truncated: boolean }> {
    const t = await this.translate(sql);
    if ('answer' in t) return { ...t.answer, rows: t.answer.rows.slice(0, limits.maxRows), truncated: t.answer.rows.length > limits.maxRows };
    let stopped = false;
    const timer = setTimeout(() => {
      stopped = true;
      this.db.interrupt();
    }, limits.timeoutMs);
    try {
      const reader = await this.db.streamAndReadUntil(t.sql, limits.maxRows + 1);
      const result = rowsOf(reader);
      return { columns: result.columns, rows: result.rows.slice(0, limits.maxRows), truncated: result.rows.length > limits.maxRows || !reader.done };
    } catch (error) {
      if (stopped) throw new QueryError(`the query ran past ${limits.timeoutMs / 1000} s, the limit here; narrow it (a WHERE on "date", a LIMIT), or run it with --env on Athena`, { cause: error });
      throw new QueryError((error as Error).message, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  public async queryColumns(sql: string): Promise<ColumnarResult> {
    const t = await this.translate(sql);
    return 'answer' in t ? toColumns(t.answer) : queryConnectionColumns(this.db, t.sql);
  }

  public close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}

/** Runs one DuckDB statement and reads all rows as JSON values. */
async function queryConnection(db: DuckDBConnection, sql: string): Promise<QueryResult> {
  try {
    return rowsOf(await db.runAndReadAll(sql));
  } catch (error) {
    throw new QueryError((error as Error).message, { cause: error });
  }
}

/** The rows a reader holds, as JSON values. */
function rowsOf(reader: DuckDBResultReader): QueryResult {
  const columns = reader.columnNames();
  const convert = reader.columnTypes().map((t) => converterFor(t));
  const rows = reader.getRowObjectsJson().map((row) => {
    const out: Record<string, unknown> = {};
    columns.forEach((c, i) => (out[c] = (convert[i] as (v: unknown) => unknown)(row[c])));
    return out;
  });
  return { columns, rows };
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
    const result = await db.run(sql);
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

/**
 * A query engine over an open connection (the refresh's warehouse); closing it is the owner's
 * job. Its Athena statements are translated as users' are, over the tables the connection
 * holds at that moment (the refresh creates and drops its staged tables as it goes).
 */
export function connectionEngine(db: DuckDBConnection, database = LOCAL_DATABASE): QueryEngine {
  // The tables' columns are read again only when a statement names a table or a column the
  // last read missed (the refresh creates tables and adds columns as it goes).
  let catalog: Catalog | null = null;
  const read = async (): Promise<Catalog> => {
    const base = (await db.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'`)).getRows().map(([t]) => String(t));
    return readCatalog(db, database, undefined, { pathColumns: false, iceberg: new Set(base) });
  };
  const translated = async (sql: string): Promise<string> => {
    catalog ??= await read();
    let translation: Translation;
    try {
      translation = translateForEngine(sql, catalog);
    } catch (error) {
      if (!(error instanceof QueryError && error.cause instanceof TranslationError && /^(table .* does not exist|Column '.*' cannot be resolved)/.test(error.message))) throw error;
      catalog = await read();
      translation = translateForEngine(sql, catalog);
    }
    if (translation.kind !== 'query') throw new QueryError('the refresh runs queries only');
    return translation.sql;
  };
  return {
    query: async (sql) => queryConnection(db, await translated(sql)),
    queryColumns: async (sql) => queryConnectionColumns(db, await translated(sql)),
    native: (sql) => queryConnection(db, sql),
    close: () => undefined,
  };
}

/** {@link translateAthenaSql}, its errors as the engine's. */
function translateForEngine(sql: string, catalog: Catalog): Translation {
  try {
    return translateAthenaSql(sql, catalog);
  } catch (error) {
    if (error instanceof SqlSyntaxError || error instanceof TranslationError) throw new QueryError(error.message, { cause: error });
    throw error;
  }
}

const INTEGER_TYPES = new Set([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT]);

/**
 * JSON values as users expect them, at any depth: maps as objects, 64-bit integers and
 * decimals as numbers when exact (DuckDB's JSON rows give them as text).
 */
function converterFor(type: DuckDBType): (value: unknown) => unknown {
  if (type instanceof DuckDBMapType) {
    const value = converterFor(type.valueType);
    return (v) => (Array.isArray(v) ? Object.fromEntries((v as { key: unknown; value: unknown }[]).map((e) => [String(e.key), value(e.value)])) : v);
  }
  if (type instanceof DuckDBListType || type instanceof DuckDBArrayType) {
    const element = converterFor(type.valueType);
    return (v) => (Array.isArray(v) ? v.map(element) : v);
  }
  if (type instanceof DuckDBStructType) {
    const fields = type.entryNames.map((name, i) => [name, converterFor(type.entryTypes[i] as DuckDBType)] as const);
    return (v) => (v && typeof v === 'object' ? Object.fromEntries(fields.map(([name, convert]) => [name, convert((v as Record<string, unknown>)[name])])) : v);
  }
  if (INTEGER_TYPES.has(type.typeId)) return (v) => (typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : v);
  if (type.typeId === DuckDBTypeId.DECIMAL) return (v) => (typeof v === 'string' && v !== '' && String(Number(v)) === v.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '') ? Number(v) : v);
  return (v) => v;
}
