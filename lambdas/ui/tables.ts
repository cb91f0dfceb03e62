import type { QueryEngine } from '../core/ports.js';

/** The environment's tables and views, as `SHOW TABLES` lists them (Athena's catalog, or the data folder's). */
export async function tableNames(engine: QueryEngine): Promise<string[]> {
  const result = await engine.query('SHOW TABLES');
  const column = result.columns[0];
  return column === undefined ? [] : result.rows.map((r) => String(r[column]));
}
