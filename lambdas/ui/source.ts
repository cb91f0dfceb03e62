import type { Config } from '../core/config/index.js';
import type { NamedQuery } from '../core/named-queries.js';
import type { ObjectStore, QueryEngine, QueryStats } from '../core/ports.js';

/**
 * What the endpoint page reads, the same in both worlds: the data folder behind `npm start`,
 * or a deployed environment through the user's own credentials (`inference-tables ui --env`).
 * The wiring module of each world builds one; the page's routes know nothing else.
 */
export interface UiSource {
  /** Where the page reads from, shown in its header. */
  readonly where: { readonly kind: 'local'; readonly dataDir: string } | { readonly kind: 'aws'; readonly environment: string; readonly workgroup: string; readonly database: string };
  /** The configuration in force (the serving state's versions, traffic and capture applied) and its version. */
  config(): Promise<{ readonly config: Config; readonly version: number }>;
  /** An engine for the reads of one page request (Athena SQL); closed by the caller. */
  open(): Promise<QueryEngine>;
  /** Runs a console query: read-only, confined to the environment's tables, within `limits`. */
  console(sql: string, limits: ConsoleLimits): Promise<ConsoleAnswer>;
  /** The tables' bucket (or data folder): refresh state and health records. */
  readonly store: ObjectStore;
  /** Saved queries shown as the console's examples (the workgroup's named queries on AWS). */
  namedQueries(): Promise<readonly NamedQuery[]>;
  /** Folder that relative baseline files are read from (the project's root). */
  readonly projectRoot: string;
  /** Figures of the capture path outside the tables (the local server's spill and counters). */
  captureHealth?(endpoint: string): Promise<unknown>;
  /** The environment's CloudWatch alarms on AWS. */
  alarms?(): Promise<readonly AlarmState[]>;
}

/** What the console may ask of an engine. */
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

/** A console query's answer. */
export interface ConsoleAnswer {
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, unknown>[];
  /** More rows than `maxRows` came back; only the first are answered. */
  readonly truncated: boolean;
  /** Athena's scan and its price. */
  readonly stats?: QueryStats;
}

/** One CloudWatch alarm of the environment. */
export interface AlarmState {
  readonly name: string;
  readonly state: string;
  readonly reason: string;
  readonly updated_at: string | null;
}
