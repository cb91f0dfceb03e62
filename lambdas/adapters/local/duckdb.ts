import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** Quotes a string as a SQL literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier. */
export function sqlIdent(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/** Opens an in-memory DuckDB database with one connection. */
export async function openDuckDb(): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  // No extension may be downloaded at run time; parquet, json and icu ship with the package.
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'true' });
  const connection = await instance.connect();
  return { instance, connection };
}
