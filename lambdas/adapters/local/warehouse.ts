import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parquetColumns, payloadColumns } from '../../core/capture-record.js';
import { LABEL_COLUMNS } from '../../core/refresh-sql.js';
import { tableName } from '../../core/names.js';
import { HISTORY_COLUMNS, SERVED_ENTITIES_HISTORY, SERVED_ENTITIES_VIEW, servedEntitiesViewQuery } from '../../core/served-entities.js';
import { ATHENA_MACROS, registerAthenaFunctions } from './athena-functions.js';
import { sqlIdent, sqlString } from './duckdb.js';
import { CompactionManifestError, visiblePayloadPaths } from './payload-files.js';

/**
 * The local stand-in for the Iceberg tables the refresh workflow writes on AWS
 * (`<endpoint>_unpacked`, `_unpack_errors`, `_recompute_windows`): one DuckDB database file
 * in the data folder, transactional like Iceberg, written by one refresh at a time.
 */
export const WAREHOUSE_FILE = 'warehouse.duckdb';

function hasParquet(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.parquet'));
}

/** A view over an endpoint's labels files (`<endpoint>_labels/uploaded=<date>/*.parquet`), empty before the first upload. */
export function labelsViewSql(dataDir: string, endpoint: string, temporary = false): string {
  const name = tableName(endpoint, 'labels');
  const dir = join(dataDir, name);
  const create = `CREATE OR REPLACE ${temporary ? 'TEMP ' : ''}VIEW ${sqlIdent(name)} AS`;
  if (hasParquet(dir)) {
    return `${create} SELECT * FROM read_parquet(${sqlString(join(dir, '*', '*.parquet'))}, hive_partitioning = true, hive_types = {'uploaded': VARCHAR}, union_by_name = true)`;
  }
  const cols = LABEL_COLUMNS.map(([c, t]) => `CAST(NULL AS ${t}) AS ${sqlIdent(c)}`);
  return `${create} SELECT ${cols.join(', ')}, CAST(NULL AS VARCHAR) AS uploaded WHERE false`;
}

const DUCKDB_OF_GLUE: Readonly<Record<string, string>> = { string: 'VARCHAR', timestamp: 'TIMESTAMP', int: 'INTEGER', boolean: 'BOOLEAN', double: 'DOUBLE' };

/**
 * The served-entities history (one JSON-lines file per applied configuration) and its view,
 * empty with their columns before the first file.
 */
export function servedEntitiesViewsSql(dataDir: string): string[] {
  const dir = join(dataDir, SERVED_ENTITIES_HISTORY);
  const files = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'));
  const typed = HISTORY_COLUMNS.map(([c, , glue]) => `${sqlIdent(c)}: ${sqlString(DUCKDB_OF_GLUE[glue] as string)}`);
  const history = files
    ? `SELECT * FROM read_json(${sqlString(join(dir, '*.json'))}, format = 'newline_delimited', columns = {${typed.join(', ')}})`
    : `SELECT ${HISTORY_COLUMNS.map(([c, , glue]) => `CAST(NULL AS ${DUCKDB_OF_GLUE[glue] as string}) AS ${sqlIdent(c)}`).join(', ')} WHERE false`;
  return [`CREATE OR REPLACE VIEW ${SERVED_ENTITIES_HISTORY} AS ${history}`, `CREATE OR REPLACE VIEW ${SERVED_ENTITIES_VIEW} AS ${servedEntitiesViewQuery(SERVED_ENTITIES_HISTORY)}`];
}

/**
 * A view over a payload table's files (`<name>/endpoint=…/date=…/*.parquet`, or the files
 * given); empty, with its columns, before the first file. A compacted table is read through
 * its visible files (the files a compaction replaced are left out until they are deleted).
 */
export function payloadViewSql(dataDir: string, name: string, temporary = false, given?: readonly string[], pseudoColumns = false): string {
  const dir = join(dataDir, name);
  const create = `CREATE OR REPLACE ${temporary ? 'TEMP ' : ''}VIEW ${sqlIdent(pseudoColumns ? `${name}$path` : name)} AS`;
  const files = given ?? visiblePayloadPaths(dir);
  if (files ? files.length > 0 : hasParquet(dir)) {
    const source = files ? `[${files.map(sqlString).join(', ')}]` : sqlString(join(dir, '*', '*', '*.parquet'));
    // By name with an empty row of every column: files of earlier releases, which lack the
    // columns added since, read them as NULL instead of failing a query that names them.
    // The partitions last, in their declared order (endpoint, date), as Athena's `*` lists them.
    const rows = `SELECT * EXCLUDE ("endpoint", "date"), "endpoint", "date" FROM (SELECT * FROM read_parquet(${source},
      hive_partitioning = true, hive_types = {'endpoint': VARCHAR, 'date': VARCHAR}, union_by_name = true${pseudoColumns ? `, filename = '$path'` : ''})
      UNION ALL BY NAME ${emptyPayloadSelect('false', pseudoColumns)})`;
    if (!pseudoColumns) return `${create} ${rows}`;
    // Athena's "$file_size" and "$file_modified_time", from the files themselves (read_blob reads no content here).
    return `${create} SELECT r.* EXCLUDE ("$file_size", "$file_modified_time"), b.size AS "$file_size", b.last_modified AS "$file_modified_time"
      FROM (${rows}) r LEFT JOIN (SELECT filename, size, last_modified FROM read_blob(${source})) b ON r."$path" = b.filename`;
  }
  return `${create} ${emptyPayloadSelect('false', pseudoColumns)}`;
}

/**
 * {@link payloadViewSql}, except that a table whose compaction manifest cannot be read gets a
 * view that fails with the cause and the fix when it is read: the other tables stay readable
 * (and only that endpoint's refresh steps fail).
 */
export function readablePayloadViewSql(dataDir: string, name: string, temporary = false): string {
  try {
    return payloadViewSql(dataDir, name, temporary);
  } catch (error) {
    if (!(error instanceof CompactionManifestError)) throw error;
    return emptyPayloadViewSql(name, temporary, `error(${sqlString(error.message)}) IS NULL`);
  }
}

/** No row, with every column of the payload table and its type; `where` may raise an error instead. */
function emptyPayloadSelect(where = 'false', pseudoColumns = false): string {
  const types = new Map(parquetColumns().map((c) => [c.name, c.duckdbType]));
  const cols = payloadColumns.map((c) => `CAST(NULL AS ${types.get(c.name) ?? 'VARCHAR'}) AS ${sqlIdent(c.name)}`);
  if (pseudoColumns) cols.push(`CAST(NULL AS VARCHAR) AS "$path"`, `CAST(NULL AS BIGINT) AS "$file_size"`, `CAST(NULL AS TIMESTAMPTZ) AS "$file_modified_time"`);
  return `SELECT ${cols.join(', ')} WHERE ${where}`;
}

/** A payload view with the table's columns and no row; `where` may raise an error instead. */
function emptyPayloadViewSql(name: string, temporary: boolean, where = 'false'): string {
  return `CREATE OR REPLACE ${temporary ? 'TEMP ' : ''}VIEW ${sqlIdent(name)} AS ${emptyPayloadSelect(where)}`;
}

/** Opens the warehouse for writing, with the Athena functions and the labels views of `endpoints`; its engine holds at most `memoryMib` MiB and spills the rest. */
export async function openWarehouse(dataDir: string, endpoints: readonly string[], memoryMib?: number): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(join(dataDir, WAREHOUSE_FILE), {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    // Bounded, with spilling to `<file>.tmp/`: DuckDB's default takes 80 % of the machine.
    ...(memoryMib ? { memory_limit: `${memoryMib}MiB` } : {}),
  });
  const connection = await instance.connect();
  // Timestamps are UTC and integers divide to an integer, as in Athena: the refresh's Athena
  // statements are translated, and its DuckDB ones never divide integers.
  await connection.run(`SET TimeZone = 'UTC'`);
  await connection.run('SET integer_division = true');
  registerAthenaFunctions(connection);
  for (const macro of ATHENA_MACROS) await connection.run(macro.replace('CREATE OR REPLACE MACRO', 'CREATE OR REPLACE TEMP MACRO'));
  for (const e of endpoints) {
    await connection.run(labelsViewSql(dataDir, e, true));
    await payloadView(connection, dataDir, tableName(e, 'payload'));
  }
  return { instance, connection };
}

/**
 * The refresh's view of a payload table. A file DuckDB cannot read fails the view of every
 * file; the run's unpack moves such a file to the quarantine, so the view here leaves out the
 * files that do not open, rather than stopping the run that repairs them.
 */
async function payloadView(connection: DuckDBConnection, dataDir: string, name: string): Promise<void> {
  try {
    await connection.run(readablePayloadViewSql(dataDir, name, true));
    return;
  } catch (error) {
    if (!/Invalid Input Error|IO Error/.test((error as Error).message)) throw error;
  }
  const dir = join(dataDir, name);
  const files =
    visiblePayloadPaths(dir) ??
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => join(dir, f));
  const readable: string[] = [];
  for (const file of files) {
    try {
      await connection.run(`SELECT 1 FROM parquet_metadata(${sqlString(file)}) LIMIT 1`);
      readable.push(file);
    } catch {
      // Left out here; the unpack moves it out of the table with its reason.
    }
  }
  await connection.run(payloadViewSql(dataDir, name, true, readable));
}
