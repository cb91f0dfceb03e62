/**
 * The local engine's catalog as Athena shows it: the tables and their columns' types for the
 * translator, and the answers to SHOW TABLES, SHOW COLUMNS, DESCRIBE, SHOW CREATE TABLE and
 * SHOW PARTITIONS, with Athena's column names.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Catalog, Translation } from '../../core/athena-sql/translate.js';
import { type SqlType, fromDuckType, hiveTypeName, scalar } from '../../core/athena-sql/types.js';
import { payloadColumns } from '../../core/capture-record.js';
import { QueryError, type QueryResult } from '../../core/ports.js';
import { sqlString } from './duckdb.js';

const PAYLOAD = /_payload$/;
/** The view of a payload table that adds Athena's `"$path"`. */
export const pathViewName = (table: string): string => `${table}$path`;

/** Reads the columns of `tables` (default: all; views and the warehouse's tables alike) from the engine. */
export async function readCatalog(db: DuckDBConnection, database: string, tables?: readonly string[], options: { pathColumns?: boolean; iceberg?: ReadonlySet<string> } = {}): Promise<Catalog> {
  const { pathColumns = true, iceberg = new Set<string>() } = options;
  const rows = (await db.runAndReadAll(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`)).getRows() as [string, string, string][];
  // Every table the engine has, unless named.
  const wanted = new Set(tables ?? rows.map(([t]) => t));
  const byTable = new Map<string, Map<string, SqlType>>([...wanted].map((t) => [t, new Map()]));
  for (const [table, column, type] of rows) {
    if (!wanted.has(table)) continue;
    const t = fromDuckType(type);
    // Iceberg tables keep microseconds (timestamp(6)); Hive tables read timestamps as timestamp(3).
    byTable.get(table)?.set(column, iceberg.has(table) && t.kind === 'scalar' && t.name === 'timestamp' ? scalar('timestamp(6)') : t);
  }
  // Glue lists a payload table's partitions last, in their declared order.
  for (const [table, columns] of byTable) {
    if (!PAYLOAD.test(table)) continue;
    const partitions = payloadColumns.filter((c) => c.partition).map((c) => c.name as string);
    const ordered = [...[...columns].filter(([c]) => !partitions.includes(c)), ...partitions.filter((p) => columns.has(p)).map((p) => [p, columns.get(p) as SqlType] as const)];
    byTable.set(table, new Map(ordered));
  }
  return { database, tables: byTable, pseudoColumns: (table) => (pathColumns && PAYLOAD.test(table) ? pathViewName(table) : null) };
}

const rowsOf = (columns: string[], rows: unknown[][]): QueryResult => ({ columns, rows: rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))) });

/** Trino LIKE, or a Hive pattern (`*`, `|`) as Athena's SHOW TABLES takes it. */
function matcher(pattern: string | null): (name: string) => boolean {
  if (pattern === null) return () => true;
  const escape = (s: string) => s.replace(/[.+?^${}()[\]\\]/g, '\\$&');
  const source = pattern.includes('*') || pattern.includes('|')
    ? pattern.split('|').map((p) => escape(p).replaceAll('*', '.*')).join('|')
    : escape(pattern).replaceAll('%', '.*').replaceAll('_', '.');
  const re = new RegExp(`^(?:${source})$`, 'i');
  return (name) => re.test(name);
}

/** Answers a SHOW or DESCRIBE statement from the catalog. */
export function describeCatalog(catalog: Catalog, statement: Exclude<Translation, { kind: 'query' }>, dataDir: string): QueryResult {
  switch (statement.kind) {
    case 'show-databases':
      return rowsOf(['database_name'], [[catalog.database]].filter(([d]) => matcher(statement.like)(d as string)));
    case 'show-tables': {
      const match = matcher(statement.like);
      return rowsOf(['tab_name'], [...catalog.tables.keys()].filter(match).sort().map((t) => [t]));
    }
    case 'show-columns': {
      const columns = [...(catalog.tables.get(statement.table) ?? new Map<string, SqlType>())];
      if (!statement.describe) return rowsOf(['field'], columns.map(([c]) => [c]));
      return rowsOf(['col_name', 'data_type', 'comment'], columns.map(([c, t]) => [c, hiveTypeName(t), '']));
    }
    case 'show-partitions':
      // The payload tables use partition projection: Athena lists no partitions for them.
      if (PAYLOAD.test(statement.table)) return rowsOf(['partition'], []);
      throw new QueryError(`SHOW PARTITIONS: ${statement.table} is not partitioned the Hive way (Athena answers the same); query its rows grouped by "date" instead`);
    case 'show-create-table':
      return rowsOf(['createtab_stmt'], createTableLines(catalog, statement.table, dataDir).map((l) => [l]));
  }
}

/** The DDL of a table, one line per row, as Athena's SHOW CREATE TABLE gives it. */
function createTableLines(catalog: Catalog, table: string, dataDir: string): string[] {
  const columns = [...(catalog.tables.get(table) ?? new Map<string, SqlType>())];
  const partitions = PAYLOAD.test(table) ? new Set(payloadColumns.filter((c) => c.partition).map((c) => c.name as string)) : new Set<string>();
  const body = columns.filter(([c]) => !partitions.has(c)).map(([c, t], i, all) => `  \`${c}\` ${hiveTypeName(t)}${i < all.length - 1 ? ',' : ')'}`);
  if (!PAYLOAD.test(table)) return [`CREATE TABLE \`${catalog.database}\`.\`${table}\`(`, ...body];
  return [
    `CREATE EXTERNAL TABLE \`${catalog.database}\`.\`${table}\`(`,
    ...body,
    'PARTITIONED BY (',
    ...[...partitions].map((p, i, all) => `  \`${p}\` string${i < all.length - 1 ? ',' : ')'}`),
    'STORED AS PARQUET',
    'LOCATION',
    `  ${sqlString(`${dataDir}/${table}`)}`,
    'TBLPROPERTIES (',
    "  'projection.enabled'='true')",
  ];
}
