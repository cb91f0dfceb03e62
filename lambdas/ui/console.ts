/**
 * The SQL console's query route (`GET /api/sql?q=…`): Athena's SQL on the environment's
 * tables, read-only. Each world's runner keeps it so (`UiSource.console`): locally the
 * translator takes queries and SHOW/DESCRIBE only and the engine is confined to the data
 * folder with its settings locked; on AWS the statement is checked before Athena sees it. A
 * bounded number of rows comes back within a time limit, and an error names the problem
 * with its line and column.
 */
import { QueryError } from '../core/ports.js';
import type { PageRoutes, RouteResult } from '../core/ports.js';
import { CONSOLE_LIMITS, type ConsoleLimits, type UiSource } from './source.js';
import { json } from './read.js';

/** The answer to a query the console refused or the engine failed: the message, and where when the parser said. */
function refusal(error: QueryError): RouteResult {
  const at = /^line (\d+):(\d+): /.exec(error.message);
  return json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message, ...(at ? { line: Number(at[1]), column: Number(at[2]) } : {}) });
}

/** The console's route; undefined for other paths. */
export function consoleRoutes(source: UiSource, overrides: Partial<ConsoleLimits> = {}): PageRoutes {
  const limits = { ...CONSOLE_LIMITS, ...overrides };
  return (method, url) => {
    if (url.pathname !== '/api/sql') return undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The SQL console answers GET /api/sql?q=<query>.' }));
    const sql = url.searchParams.get('q') ?? '';
    if (sql.trim() === '') return Promise.resolve(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Give the query as ?q=<Athena SQL>.' }));
    if (sql.length > limits.maxSqlChars) return Promise.resolve(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `The query has ${sql.length} characters; the console takes ${limits.maxSqlChars} at most.` }));
    return run(source, sql, limits);
  };
}

async function run(source: UiSource, sql: string, limits: ConsoleLimits): Promise<RouteResult> {
  const started = Date.now();
  try {
    const result = await source.console(sql, limits);
    return json(200, { columns: result.columns, rows: result.rows, truncated: result.truncated, max_rows: limits.maxRows, elapsed_ms: Date.now() - started, ...(result.stats ? { stats: result.stats } : {}) });
  } catch (error) {
    if (error instanceof QueryError) return refusal(error);
    throw error;
  }
}
