import { FIXED_COLUMNS, type ColumnType, type FeatureColumn } from './unpacked-schema.js';

/**
 * The SQL the refresh workflow runs, for Athena (Iceberg tables, MERGE) and for the embedded
 * engine (DuckDB tables, MERGE). The statements share their queries; only DDL, type names
 * and two expressions differ, and those differences live here.
 */

/** Columns of the labels table, written by `inference-tables labels upload`; partitioned by `uploaded` (date). */
export const LABEL_COLUMNS: readonly (readonly [string, string])[] = [
  ['client_request_id', 'VARCHAR'],
  ['row_index', 'INTEGER'],
  ['label', 'VARCHAR'],
  ['labeled_at', 'TIMESTAMP'],
  ['uploaded_at', 'TIMESTAMP'],
  ['source_file', 'VARCHAR'],
];

/** Which engine a statement is written for. */
export type Dialect = 'athena' | 'duckdb';

/** Athena writes to at most 100 partitions per INSERT or MERGE (HIVE_TOO_MANY_OPEN_PARTITIONS). */
export const MAX_PARTITIONS_PER_STATEMENT = 100;

/** A table the workflow writes: its name in SQL and, on AWS, where its files are. */
export interface TableRef {
  /** Qualified name as written in SQL (`"db"."iris_unpacked"` or `"iris_unpacked"`). */
  readonly sql: string;
  /** S3 location (Athena) or folder (DuckDB) of the table's files. */
  readonly location: string;
}

/** Everything the statements of one endpoint's commit need. */
export interface CommitPlan {
  readonly dialect: Dialect;
  readonly runId: string;
  /** When the run started (UTC); labels uploaded after it wait for the next run. */
  readonly startedAt: Date;
  readonly unpacked: TableRef;
  readonly errors: TableRef;
  readonly recompute: TableRef;
  readonly labels: TableRef;
  /** The staged predictions and rejects of this run. */
  readonly stagedPredictions: TableRef;
  readonly stagedRejects: TableRef;
  /** The table's feature columns (after any new ones are added). */
  readonly columns: readonly FeatureColumn[];
  /** Types of the staged feature columns seen in this run (may be narrower). */
  readonly stagedTypes: Readonly<Record<string, ColumnType>>;
  readonly predictionType: ColumnType;
  /** Features the table does not have yet (empty when the table is created by this run). */
  readonly newColumns: readonly FeatureColumn[];
  /** Whether the unpacked table is created by this run. */
  readonly createTables: boolean;
  /** Dates with staged rows; empty when nothing new was captured. */
  readonly dates: readonly string[];
  /** Labels uploaded after this instant are new to this run. */
  readonly labelsAfter: Date;
  /** Dates the unpacked table holds, first and last, for the label statements. */
  readonly dateRange: { readonly first: string; readonly last: string } | null;
  /** Tables of the engine's unpack of this run (`unpack-sql.ts`): their predictions are merged beside the staged rows, then they are dropped. */
  readonly engineTables?: readonly TableRef[];
}

const ATHENA_TYPES: Readonly<Record<string, string>> = {
  VARCHAR: 'string',
  BIGINT: 'bigint',
  INTEGER: 'int',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
  'DOUBLE[]': 'array<double>',
};

/** `"name"` in DML; DDL in Athena is Hive's and quotes with backticks. */
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const ddlName = (d: Dialect, name: string) => (d === 'athena' ? `\`${name}\`` : q(name));
const ddlType = (d: Dialect, type: string) => (d === 'athena' ? (ATHENA_TYPES[type] as string) : type);

/** A SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A TIMESTAMP literal both engines read, in UTC. */
export function timestampLiteral(at: Date): string {
  return `TIMESTAMP '${at.toISOString().replace('T', ' ').replace('Z', '')}'`;
}

function timestampExpr(d: Dialect, millis: string): string {
  // Athena's Iceberg tables hold microsecond timestamps without a zone.
  return d === 'athena' ? `CAST(from_unixtime(${millis} / 1000e0) AS TIMESTAMP(6))` : `epoch_ms(CAST(${millis} AS BIGINT))`;
}

function unpackedColumns(plan: CommitPlan): [string, string][] {
  return [
    ...FIXED_COLUMNS.map(([c, t]) => [c, t] as [string, string]),
    ...plan.columns.map((c) => [c.column, c.type] as [string, string]),
    ['prediction', plan.predictionType],
    ['probabilities', 'DOUBLE[]'],
    ['label', plan.predictionType],
    ['labeled_at', 'TIMESTAMP'],
    ['unpacked_at', 'TIMESTAMP'],
  ];
}

/** The unpacked table's fixed columns (but the derived `model_id`), then why and when. */
const ERROR_COLUMNS: [string, string][] = [
  ...FIXED_COLUMNS.filter(([c]) => c !== 'model_id').map(([c, t]) => [c, t] as [string, string]),
  ['reason', 'VARCHAR'],
  ['unpacked_at', 'TIMESTAMP'],
];

const RECOMPUTE_COLUMNS: [string, string][] = [
  ['window_start', 'TIMESTAMP'],
  ['date', 'DATE'],
  ['reason', 'VARCHAR'],
  ['marked_at', 'TIMESTAMP'],
  ['run_id', 'VARCHAR'],
];

function createTable(d: Dialect, table: TableRef, columns: readonly [string, string][], partitionBy: string): string {
  const cols = columns.map(([c, t]) => `${ddlName(d, c)} ${ddlType(d, t)}`).join(', ');
  if (d === 'duckdb') return `CREATE TABLE IF NOT EXISTS ${table.sql} (${cols})`;
  return `CREATE TABLE IF NOT EXISTS ${table.sql} (${cols}) PARTITIONED BY (${partitionBy}) LOCATION ${literal(table.location)} TBLPROPERTIES ('table_type'='ICEBERG', 'format'='parquet', 'write_compression'='zstd')`;
}

function addColumns(d: Dialect, table: TableRef, columns: readonly FeatureColumn[]): string[] {
  if (columns.length === 0) return [];
  if (d === 'duckdb') return columns.map((c) => `ALTER TABLE ${table.sql} ADD COLUMN IF NOT EXISTS ${q(c.column)} ${c.type}`);
  return [`ALTER TABLE ${table.sql} ADD COLUMNS (${columns.map((c) => `${ddlName(d, c.column)} ${ddlType(d, c.type)}`).join(', ')})`];
}

/** Staged files are newline-delimited JSON (gzip), read with the run's column types. */
function createStaging(d: Dialect, table: TableRef, columns: readonly [string, string][]): string {
  if (d === 'athena') {
    const cols = columns.map(([c, t]) => `${ddlName(d, c)} ${ddlType(d, t)}`).join(', ');
    return `CREATE EXTERNAL TABLE IF NOT EXISTS ${table.sql} (${cols}) ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION ${literal(table.location)}`;
  }
  const struct = columns.map(([c, t]) => `${literal(c)}: ${literal(t)}`).join(', ');
  const glob = `${table.location.replace(/\/$/, '')}/*.jsonl.gz`;
  return `CREATE OR REPLACE VIEW ${table.sql} AS SELECT * FROM read_json(${literal(glob)}, format = 'newline_delimited', columns = {${struct}})`;
}

function dropStaging(d: Dialect, table: TableRef): string {
  return d === 'athena' ? `DROP TABLE IF EXISTS ${table.sql}` : `DROP VIEW IF EXISTS ${table.sql}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Consecutive date ranges of at most 100 days covering [first, last]. */
export function dayRanges(first: string, last: string, days = MAX_PARTITIONS_PER_STATEMENT): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  const day = 86_400_000;
  let start = Date.parse(`${first}T00:00:00Z`);
  const end = Date.parse(`${last}T00:00:00Z`);
  while (start <= end) {
    const stop = Math.min(start + (days - 1) * day, end);
    out.push({ from: new Date(start).toISOString().slice(0, 10), to: new Date(stop).toISOString().slice(0, 10) });
    start = stop + day;
  }
  return out;
}

/**
 * The latest label of each key uploaded up to the run's start; `newOnly` keeps keys with a
 * label uploaded since the last run. Only labels of the predictions' type count: one that
 * cannot be read as it (`setosa` for an integer class) never replaces a good label, and is
 * counted by {@link labelChecksSql}.
 */
function latestLabels(plan: CommitPlan, newOnly: boolean): string {
  const cutoff = timestampLiteral(plan.startedAt);
  const since = timestampLiteral(plan.labelsAfter);
  const fresh = newOnly
    ? ` AND client_request_id IN (SELECT client_request_id FROM ${plan.labels.sql} WHERE uploaded_at > ${since} AND uploaded_at <= ${cutoff} AND uploaded >= ${literal(plan.labelsAfter.toISOString().slice(0, 10))})`
    : '';
  return `(SELECT client_request_id, row_index, label, labeled_at FROM (
    SELECT client_request_id, COALESCE(row_index, 0) AS row_index, label, COALESCE(labeled_at, uploaded_at) AS labeled_at,
      row_number() OVER (PARTITION BY client_request_id, COALESCE(row_index, 0) ORDER BY COALESCE(labeled_at, uploaded_at) DESC, uploaded_at DESC) AS rn
    FROM ${plan.labels.sql} WHERE uploaded_at <= ${cutoff} AND client_request_id IS NOT NULL AND TRY_CAST(label AS ${plan.predictionType}) IS NOT NULL${fresh}) ranked WHERE rn = 1)`;
}

/** What the label checks read: the labels and unpacked tables, and the predictions' type. */
export interface LabelCheckPlan {
  readonly labels: TableRef;
  readonly unpacked: TableRef;
  readonly predictionType: string;
}

/** How many labels cannot be read as the predictions' type, and how many match no prediction. */
export function labelChecksSql(plan: LabelCheckPlan): string {
  return `SELECT count(*) FILTER (WHERE TRY_CAST(l.label AS ${plan.predictionType}) IS NULL) AS refused,
  count(*) FILTER (WHERE TRY_CAST(l.label AS ${plan.predictionType}) IS NOT NULL AND u.client_request_id IS NULL) AS unmatched
FROM ${plan.labels.sql} l
LEFT JOIN (SELECT DISTINCT client_request_id FROM ${plan.unpacked.sql} WHERE client_request_id IS NOT NULL) u ON u.client_request_id = l.client_request_id
WHERE l.client_request_id IS NOT NULL`;
}

/** Columns of `<endpoint>_label_rejects`: every label kept out of the unpacked table, with why. */
export const LABEL_REJECT_COLUMNS: [string, string][] = [
  ['client_request_id', 'VARCHAR'],
  ['row_index', 'INTEGER'],
  ['label', 'VARCHAR'],
  ['uploaded_at', 'TIMESTAMP'],
  ['source_file', 'VARCHAR'],
  ['reason', 'VARCHAR'],
  ['checked_at', 'TIMESTAMP'],
  ['run_id', 'VARCHAR'],
];

/**
 * Statements that rewrite `<endpoint>_label_rejects` from the labels as they stand: each label
 * that cannot be read as the predictions' type, or that matches no captured prediction, with
 * the reason. Run whenever labels arrive (a later upload may fix a row, or its prediction may
 * arrive), so the table lists exactly what is left out now.
 */
export function labelRejectStatements(d: Dialect, plan: LabelCheckPlan & { readonly rejects: TableRef; readonly runId: string; readonly checkedAt: Date }): string[] {
  const type = plan.predictionType;
  const columns = LABEL_REJECT_COLUMNS.map(([c]) => q(c));
  return [
    createTable(d, plan.rejects, LABEL_REJECT_COLUMNS, 'day(`uploaded_at`)'),
    `DELETE FROM ${plan.rejects.sql}`,
    `INSERT INTO ${plan.rejects.sql} (${columns.join(', ')})
SELECT l.client_request_id, COALESCE(l.row_index, 0), CAST(l.label AS VARCHAR), l.uploaded_at, l.source_file,
  CASE WHEN TRY_CAST(l.label AS ${type}) IS NULL THEN ${literal(`cannot be read as ${type}, the type of the predictions`)} ELSE 'matches no captured prediction' END,
  ${timestampLiteral(plan.checkedAt)}, ${literal(plan.runId)}
FROM ${plan.labels.sql} l
LEFT JOIN (SELECT DISTINCT client_request_id FROM ${plan.unpacked.sql} WHERE client_request_id IS NOT NULL) u ON u.client_request_id = l.client_request_id
WHERE l.client_request_id IS NOT NULL AND (TRY_CAST(l.label AS ${type}) IS NULL OR u.client_request_id IS NULL)`,
  ];
}

/** A few labels that cannot be read as the predictions' type, to name in the report. */
export function refusedLabelsSql(plan: LabelCheckPlan, limit = 5): string {
  return `SELECT client_request_id, COALESCE(row_index, 0) AS row_index, label, CAST(uploaded_at AS VARCHAR) AS uploaded_at
FROM ${plan.labels.sql} WHERE client_request_id IS NOT NULL AND TRY_CAST(label AS ${plan.predictionType}) IS NULL
ORDER BY uploaded_at DESC, client_request_id LIMIT ${limit}`;
}

/**
 * The staged rows and the engine's predictions beside them, one source of the same columns,
 * each with `rn`, 1 for the copy of a row to keep. A record delivered twice is the same
 * record (its request id is the proxy's), so the engine's rows keep one copy of each request:
 * the first of its table, and none of a request an earlier table holds (a redelivered file
 * may fall in another group of files). A window over every row cost a third of the MERGE;
 * the staged rows, few, keep theirs.
 */
function stagedSource(plan: CommitPlan): string {
  const tables = plan.engineTables ?? [];
  const window = 'row_number() OVER (PARTITION BY request_id, row_index ORDER BY timestamp_ms) AS rn';
  if (tables.length === 0) return `(SELECT *, ${window} FROM ${plan.stagedPredictions.sql})`;
  const columns = stagedPredictionColumns(plan)
    .map(([c]) => q(c))
    .join(', ');
  const requests = (t: TableRef) => (plan.dialect === 'duckdb' ? judgedRequests(t) : t.sql);
  const engineRows = tables.map((t, i) =>
    [
      `\nUNION ALL SELECT ${columns}, 1 AS rn FROM ${t.sql} e WHERE clean AND row_index IS NOT NULL`,
      `AND payload_row IN (SELECT min_by(payload_row, timestamp_ms) FROM ${requests(t)} WHERE clean GROUP BY request_id)`,
      ...tables.slice(0, i).map((earlier) => `AND NOT EXISTS (SELECT 1 FROM ${requests(earlier)} r WHERE r.clean AND r.request_id = e.request_id)`),
    ].join(' '),
  );
  return `(SELECT ${columns}, ${window} FROM ${plan.stagedPredictions.sql}${engineRows.join('')})`;
}

function mergePredictions(plan: CommitPlan, dates: readonly string[]): string {
  const d = plan.dialect;
  const staged = new Set(Object.keys(plan.stagedTypes));
  const features = plan.columns.map((c) =>
    staged.has(c.column) ? `TRY_CAST(s.${q(c.column)} AS ${c.type}) AS ${q(c.column)}` : `CAST(NULL AS ${c.type}) AS ${q(c.column)}`,
  );
  const columns = unpackedColumns(plan).map(([c]) => q(c));
  return `MERGE INTO ${plan.unpacked.sql} t
USING (
  SELECT s.request_id, s.client_request_id, s.row_index, ${timestampExpr(d, 's.timestamp_ms')} AS "timestamp", CAST(s."date" AS DATE) AS "date",
    s.model_name, s.model_version, s.model_name || '/' || s.model_version AS model_id,
    ${[...features, `TRY_CAST(s.prediction AS ${plan.predictionType}) AS prediction`].join(', ')}, s.probabilities,
    TRY_CAST(l.label AS ${plan.predictionType}) AS label, l.labeled_at, ${timestampLiteral(plan.startedAt)} AS unpacked_at
  FROM ${stagedSource(plan)} s
  LEFT JOIN ${latestLabels(plan, false)} l ON l.client_request_id = s.client_request_id AND l.row_index = s.row_index
  WHERE s.rn = 1 AND s."date" IN (${dates.map(literal).join(', ')})
) u
ON t.request_id = u.request_id AND t.row_index = u.row_index AND t."date" = u."date"
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `u.${c}`).join(', ')})`;
}

function mergeRejects(plan: CommitPlan, dates: readonly string[]): string {
  const columns = ERROR_COLUMNS.map(([c]) => q(c));
  return `MERGE INTO ${plan.errors.sql} t
USING (
  SELECT request_id, client_request_id, row_index, ${timestampExpr(plan.dialect, 'timestamp_ms')} AS "timestamp", CAST("date" AS DATE) AS "date",
    model_name, model_version, reason, ${timestampLiteral(plan.startedAt)} AS unpacked_at
  FROM (SELECT *, row_number() OVER (PARTITION BY request_id, COALESCE(row_index, -1) ORDER BY timestamp_ms) AS rn FROM ${plan.stagedRejects.sql})
  WHERE rn = 1 AND "date" IN (${dates.map(literal).join(', ')})
) u
ON t.request_id = u.request_id AND COALESCE(t.row_index, -1) = COALESCE(u.row_index, -1) AND t."date" = u."date"
WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((c) => `u.${c}`).join(', ')})`;
}

/** Windows (hours) whose rows get a new or changed label: part 2 recomputes them. */
function markLateLabels(plan: CommitPlan, range: { from: string; to: string }): string {
  const type = plan.predictionType;
  return `INSERT INTO ${plan.recompute.sql} (window_start, "date", reason, marked_at, run_id)
SELECT DISTINCT date_trunc('hour', t."timestamp"), t."date", 'late_label', ${timestampLiteral(plan.startedAt)}, ${literal(plan.runId)}
FROM ${plan.unpacked.sql} t JOIN ${latestLabels(plan, true)} l ON t.client_request_id = l.client_request_id AND t.row_index = l.row_index
WHERE t."date" BETWEEN DATE ${literal(range.from)} AND DATE ${literal(range.to)}
  AND (t.label IS DISTINCT FROM TRY_CAST(l.label AS ${type}) OR t.labeled_at IS DISTINCT FROM l.labeled_at)`;
}

function attachLabels(plan: CommitPlan, range: { from: string; to: string }): string {
  const type = plan.predictionType;
  return `MERGE INTO ${plan.unpacked.sql} t
USING ${latestLabels(plan, true)} l
ON t.client_request_id = l.client_request_id AND t.row_index = l.row_index AND t."date" BETWEEN DATE ${literal(range.from)} AND DATE ${literal(range.to)}
WHEN MATCHED AND (t.label IS DISTINCT FROM TRY_CAST(l.label AS ${type}) OR t.labeled_at IS DISTINCT FROM l.labeled_at)
  THEN UPDATE SET label = TRY_CAST(l.label AS ${type}), labeled_at = l.labeled_at`;
}

/** Keys every staged row (prediction or reject) has, as the unpack step writes them. */
const STAGED_KEYS: [string, string][] = [
  ['request_id', 'VARCHAR'],
  ['client_request_id', 'VARCHAR'],
  ['row_index', 'INTEGER'],
  ['timestamp_ms', 'BIGINT'],
  ['date', 'VARCHAR'],
  ['model_name', 'VARCHAR'],
  ['model_version', 'VARCHAR'],
];

/** The staged columns of a run: fixed keys, the features seen, the prediction. */
function stagedPredictionColumns(plan: CommitPlan): [string, string][] {
  return [
    ...STAGED_KEYS,
    ...Object.entries(plan.stagedTypes).map(([c, t]) => [c, t] as [string, string]),
    // Staged as sent; cast to the table's type by the MERGE.
    ['prediction', 'VARCHAR'],
    ['probabilities', 'DOUBLE[]'],
  ];
}

const STAGED_REJECT_COLUMNS: [string, string][] = [...STAGED_KEYS, ['reason', 'VARCHAR']];

/** In DuckDB, the table of the judged requests behind an engine table, which is a view of their rows (`unpack-sql.ts`). */
export const judgedRequests = (table: TableRef) => (table.sql.endsWith('"') ? `${table.sql.slice(0, -1)}_requests"` : `${table.sql}_requests`);

/** The statements that drop an engine table once merged: in DuckDB the view and its requests. */
function engineDropStatements(d: Dialect, table: TableRef): string[] {
  return d === 'duckdb' ? [`DROP VIEW IF EXISTS ${table.sql}`, `DROP TABLE IF EXISTS ${judgedRequests(table)}`] : [`DROP TABLE IF EXISTS ${table.sql}`];
}

/**
 * The statements of one endpoint's commit, in order. Each is idempotent, so a run that fails
 * half-way and is run again (the watermark did not move) writes nothing twice.
 */
export function commitStatements(plan: CommitPlan): string[] {
  const d = plan.dialect;
  const out: string[] = [];
  if (plan.createTables) {
    out.push(createTable(d, plan.unpacked, unpackedColumns(plan), 'day(`timestamp`)'));
    out.push(createTable(d, plan.errors, ERROR_COLUMNS, 'day(`timestamp`)'));
    out.push(createTable(d, plan.recompute, RECOMPUTE_COLUMNS, '`date`'));
  }
  out.push(...addColumns(d, plan.unpacked, plan.newColumns));
  if (plan.dates.length > 0) {
    out.push(createStaging(d, plan.stagedPredictions, stagedPredictionColumns(plan)));
    out.push(createStaging(d, plan.stagedRejects, STAGED_REJECT_COLUMNS));
    for (const dates of chunks(plan.dates, MAX_PARTITIONS_PER_STATEMENT)) {
      out.push(mergePredictions(plan, dates));
      out.push(mergeRejects(plan, dates));
    }
  }
  if (plan.dateRange) {
    for (const range of dayRanges(plan.dateRange.first, plan.dateRange.last)) {
      out.push(markLateLabels(plan, range));
      out.push(attachLabels(plan, range));
    }
  }
  if (plan.dates.length > 0) out.push(dropStaging(d, plan.stagedPredictions), dropStaging(d, plan.stagedRejects));
  for (const t of plan.engineTables ?? []) out.push(...engineDropStatements(d, t));
  return out;
}
