import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import type { Config } from '../../lambdas/core/config/index.js';

/** Rows of one query on the local tables of `dir`, with an engine opened for it. */
export async function queryRows(dir: string, config: Config, sql: string): Promise<Record<string, unknown>[]> {
  const engine = await LocalQueryEngine.open(dir, config);
  try {
    return [...(await engine.query(sql)).rows];
  } finally {
    engine.close();
  }
}
