/**
 * The SQL console's query route (`GET /api/sql?q=…` on the local server): Athena's SQL on the
 * data folder's tables, read-only. The translator takes queries and SHOW/DESCRIBE only, and
 * Athena's functions only; the engine behind it is confined to the data folder with its
 * settings locked (`LocalQueryEngine.open`'s `confined`). A bounded number of rows comes back
 * within a time limit, and an error names the problem with its line and column.
 */
import type { Config } from '../../core/config/index.js';
import { QueryError } from '../../core/ports.js';
import type { RouteResult } from './dashboard.js';
import { LocalQueryEngine } from './query-engine.js';

/** What the console may ask of the engine. */
export interface ConsoleLimits {
  /** Rows answered at most (the rest is counted as truncated). */
  readonly maxRows: number;
  /** Time a query may run. */
  readonly timeoutMs: number;
  /** Characters a query may have. */
  readonly maxSqlChars: number;
}

/** The console's defaults: a screenful of results, half a minute, a page of SQL. */
export const CONSOLE_LIMITS: ConsoleLimits = { maxRows: 1000, timeoutMs: 30_000, maxSqlChars: 20_000 };

const json = (status: number, body: unknown): RouteResult => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** The answer to a query the console refused or the engine failed: the message, and where when the parser said. */
function refusal(error: QueryError): RouteResult {
  const at = /^line (\d+):(\d+): /.exec(error.message);
  return json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: error.message, ...(at ? { line: Number(at[1]), column: Number(at[2]) } : {}) });
}

/** The console's route; undefined for other paths. */
export function consoleRoutes(options: { readonly config: Config; readonly dataDir: string; readonly limits?: Partial<ConsoleLimits> }): (method: string, url: URL) => Promise<RouteResult> | undefined {
  const limits = { ...CONSOLE_LIMITS, ...options.limits };
  return (method, url) => {
    if (url.pathname !== '/api/sql') return undefined;
    if (method !== 'GET') return Promise.resolve(json(405, { error_code: 'METHOD_NOT_ALLOWED', message: 'The SQL console answers GET /api/sql?q=<query>.' }));
    const sql = url.searchParams.get('q') ?? '';
    if (sql.trim() === '') return Promise.resolve(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'Give the query as ?q=<Athena SQL>.' }));
    if (sql.length > limits.maxSqlChars) return Promise.resolve(json(400, { error_code: 'INVALID_PARAMETER_VALUE', message: `The query has ${sql.length} characters; the console takes ${limits.maxSqlChars} at most.` }));
    return run(options, sql, limits);
  };
}

async function run(options: { readonly config: Config; readonly dataDir: string }, sql: string, limits: ConsoleLimits): Promise<RouteResult> {
  const started = Date.now();
  const engine = await LocalQueryEngine.open(options.dataDir, options.config, { confined: true });
  try {
    const result = await engine.preview(sql, limits);
    return json(200, { columns: result.columns, rows: result.rows, truncated: result.truncated, max_rows: limits.maxRows, elapsed_ms: Date.now() - started });
  } catch (error) {
    if (error instanceof QueryError) return refusal(error);
    throw error;
  } finally {
    engine.close();
  }
}
