import { ALERT_ROW_COLUMNS, DRIFT_ROW_COLUMNS, type MetricsColumn, PROFILE_ROW_COLUMNS, RUN_COLUMNS, type SqlType, columnsMarkdown, sqlTypeOf } from './monitoring/index.js';
import { type Dialect, type TableRef, literal } from './refresh-sql.js';

export type { SqlType };

/**
 * The metrics tables (`<endpoint>_profile_metrics`, `_drift_metrics`, `_alerts`) and the
 * statements that replace a run's windows in them. Their columns are declared once, in the
 * column registries of `monitoring/`. Rows are staged as JSON lines by the metrics step;
 * Athena reads them with the JSON SerDe, DuckDB with read_json.
 */

/**
 * The columns of each metrics table, from the column registries (the rows the metrics step
 * computes), then the run's columns the insert adds.
 */
export const METRICS_TABLE_COLUMNS = {
  profile: [...PROFILE_ROW_COLUMNS, ...RUN_COLUMNS],
  drift: [...DRIFT_ROW_COLUMNS, ...RUN_COLUMNS],
  alerts: [...ALERT_ROW_COLUMNS, ...RUN_COLUMNS],
} as const satisfies Record<string, readonly MetricsColumn[]>;

const sqlColumns = (columns: readonly MetricsColumn[]): readonly (readonly [string, SqlType])[] => columns.map((c) => [c.name, sqlTypeOf(c.schema)] as const);

/** Columns of `<endpoint>_profile_metrics`, in order. */
export const PROFILE_COLUMNS = sqlColumns(METRICS_TABLE_COLUMNS.profile);

/** Columns of `<endpoint>_drift_metrics`, in order. */
export const DRIFT_COLUMNS = sqlColumns(METRICS_TABLE_COLUMNS.drift);

/** Columns of `<endpoint>_alerts`, in order. */
export const ALERT_COLUMNS = sqlColumns(METRICS_TABLE_COLUMNS.alerts);

/** A metrics table's columns as the Markdown table of the README (a test keeps them equal). */
export function metricsColumnsMarkdown(table: keyof typeof METRICS_TABLE_COLUMNS): string {
  return columnsMarkdown(METRICS_TABLE_COLUMNS[table]);
}

/** The type in DuckDB's syntax or Athena's (Hive DDL). */
export function renderType(d: Dialect, t: SqlType): string {
  if (typeof t === 'string') {
    if (d === 'duckdb') return t;
    return { VARCHAR: 'string', DOUBLE: 'double', BIGINT: 'bigint', TIMESTAMP: 'timestamp' }[t];
  }
  if ('array' in t) return d === 'duckdb' ? `${renderType(d, t.array)}[]` : `array<${renderType(d, t.array)}>`;
  // Field names are quoted: `end`, `count` are reserved words of Athena's DDL.
  const fields = t.struct.map(([n, ft]) => (d === 'duckdb' ? `"${n}" ${renderType(d, ft)}` : `\`${n}\`:${renderType(d, ft)}`));
  return d === 'duckdb' ? `STRUCT(${fields.join(', ')})` : `struct<${fields.join(',')}>`;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The tables of one endpoint's metrics and the run's staged rows. */
export interface MetricsTables {
  readonly profile: TableRef;
  readonly drift: TableRef;
  readonly alerts: TableRef;
  readonly staged: { readonly profile: TableRef; readonly drift: TableRef; readonly alerts: TableRef };
}

function createTable(d: Dialect, table: TableRef, columns: readonly (readonly [string, SqlType])[]): string {
  const cols = columns.map(([c, t]) => (d === 'athena' ? `\`${c}\` ${renderType(d, t)}` : `${q(c)} ${renderType(d, t)}`)).join(', ');
  if (d === 'duckdb') return `CREATE TABLE IF NOT EXISTS ${table.sql} (${cols})`;
  return `CREATE TABLE IF NOT EXISTS ${table.sql} (${cols}) PARTITIONED BY (granularity, month(window_start)) LOCATION ${literal(table.location)} TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')`;
}

function createStaging(d: Dialect, table: TableRef, columns: readonly (readonly [string, SqlType])[]): string {
  if (d === 'athena') {
    const cols = columns.map(([c, t]) => `\`${c}\` ${renderType(d, t)}`).join(', ');
    return `CREATE EXTERNAL TABLE IF NOT EXISTS ${table.sql} (${cols}) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION ${literal(table.location)}`;
  }
  const struct = columns.map(([c, t]) => `${literal(c)}: ${literal(renderType(d, t))}`).join(', ');
  const glob = `${table.location.replace(/\/$/, '')}/*.jsonl.gz`;
  return `CREATE OR REPLACE VIEW ${table.sql} AS SELECT * FROM read_json(${literal(glob)}, format = 'newline_delimited', columns = {${struct}})`;
}

/** The metrics tables of an endpoint, by kind. */
export type MetricsKind = keyof typeof METRICS_TABLE_COLUMNS;

/**
 * Adds to an existing metrics table the registry's columns it lacks. Columns are only added,
 * so a table an earlier release wrote takes the columns added since; its old rows read them
 * as NULL.
 */
function addColumns(d: Dialect, table: TableRef, columns: readonly (readonly [string, SqlType])[], existing: ReadonlySet<string> | undefined): string[] {
  const missing = existing ? columns.filter(([c]) => !existing.has(c)) : [];
  if (missing.length === 0) return [];
  if (d === 'duckdb') return missing.map(([c, t]) => `ALTER TABLE ${table.sql} ADD COLUMN IF NOT EXISTS ${q(c)} ${renderType(d, t)}`);
  return [`ALTER TABLE ${table.sql} ADD COLUMNS (${missing.map(([c, t]) => `\`${c}\` ${renderType(d, t)}`).join(', ')})`];
}

/**
 * Statements that put the run's staged metrics in place: the tables are created on first
 * use, and given the columns added since they were (`existing`: the columns each table has,
 * when it exists); the windows the run computed are deleted and inserted again, so a run that
 * fails half-way and runs again leaves one copy of each row.
 */
export function metricsStatements(d: Dialect, tables: MetricsTables, runId: string, computedAt: string, existing: Partial<Record<MetricsKind, ReadonlySet<string>>> = {}): string[] {
  const out: string[] = [];
  const sets = [
    [tables.profile, tables.staged.profile, PROFILE_COLUMNS, existing.profile],
    [tables.drift, tables.staged.drift, DRIFT_COLUMNS, existing.drift],
    [tables.alerts, tables.staged.alerts, ALERT_COLUMNS, existing.alerts],
  ] as const;
  for (const [table, staged, columns, has] of sets) {
    out.push(createTable(d, table, columns));
    out.push(...addColumns(d, table, columns, has));
    const stagedColumns = columns.filter(([c]) => !RUN_COLUMNS.some((r) => r.name === c));
    out.push(createStaging(d, staged, stagedColumns));
    // The windows computed, as granularity and start: the key rows are replaced by.
    out.push(
      `DELETE FROM ${table.sql} WHERE CAST(granularity AS VARCHAR) || '|' || CAST(window_start AS VARCHAR) IN (SELECT DISTINCT CAST(granularity AS VARCHAR) || '|' || CAST(CAST(window_start AS TIMESTAMP) AS VARCHAR) FROM ${staged.sql})`,
    );
    const names = columns.map(([c]) => q(c));
    const values = stagedColumns.map(([c]) => `s.${q(c)}`);
    out.push(`INSERT INTO ${table.sql} (${names.join(', ')}) SELECT ${values.join(', ')}, TIMESTAMP ${literal(computedAt)}, ${literal(runId)} FROM ${staged.sql} s`);
    out.push(d === 'athena' ? `DROP TABLE IF EXISTS ${staged.sql}` : `DROP VIEW IF EXISTS ${staged.sql}`);
  }
  return out;
}
