import { z } from 'zod';
import { tableName } from '../core/names.js';
import { literal, timestampLiteral } from '../core/refresh-sql.js';

/**
 * The endpoint page's reads, written once in Athena's SQL: Athena runs them as written with
 * `--env`, and the local engine through its translator, so both worlds answer the same.
 * Every value from the page reaches SQL as a literal, never as text spliced into a statement.
 */

/** A moment the page sends: ISO 8601, read as UTC when it names no zone (a `datetime-local` input). */
const moment = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:\d{2})?$/, 'must be an ISO 8601 date and time, e.g. 2026-11-30T21:00')
  .transform((s, ctx) => {
    const withTime = s.length === 10 ? `${s}T00:00` : s;
    const ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(withTime) ? withTime : `${withTime}Z`);
    // Date.parse rolls 30 February over into March: the day must be one of its month's.
    const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number];
    if (Number.isNaN(ms) || new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d) {
      ctx.addIssue({ code: 'custom', message: 'is not a valid date and time' });
      return z.NEVER;
    }
    return new Date(ms);
  });

/** Status classes a user filters by, or one exact code. */
const STATUS = /^([1-5]xx|[1-5]\d\d|errors)$/;

/** The requests list's filter and page: what `GET /api/ui/requests` takes. */
export const requestFilterSchema = z.strictObject({
  endpoint: z.string().min(1),
  from: moment.optional(),
  to: moment.optional(),
  status: z.string().regex(STATUS, 'must be a code (e.g. 503), a class (2xx, 4xx, 5xx) or "errors"').optional(),
  served_entity: z.string().max(200).optional(),
  requester: z.string().max(500).optional(),
  client_request_id: z.string().max(500).optional(),
  page: z.coerce.number().int().min(0).max(10_000).default(0),
  page_size: z.coerce.number().int().min(1).max(200).default(50),
});
export type RequestFilter = z.infer<typeof requestFilterSchema>;

/** The columns of a requests list row. */
export const REQUEST_LIST_COLUMNS = ['request_id', 'client_request_id', 'request_time', 'date', 'status_code', 'execution_time_ms', 'served_entity_name', 'requester', 'logging_error_codes'] as const;

const day = (at: Date) => at.toISOString().slice(0, 10);

/** A DOUBLE literal (Athena reads a decimal point without an exponent as DECIMAL). */
const double = (x: number) => x.toExponential();

/** The WHERE clause of a filter; the date partition bounds the scan when a time range is given. */
export function requestConditions(f: RequestFilter): string[] {
  const where: string[] = [];
  if (f.from) where.push(`"date" >= ${literal(day(f.from))}`, `request_time >= ${timestampLiteral(f.from)}`);
  if (f.to) where.push(`"date" <= ${literal(day(f.to))}`, `request_time < ${timestampLiteral(f.to)}`);
  if (f.status === 'errors') where.push('status_code >= 400');
  else if (f.status?.endsWith('xx')) where.push(`status_code BETWEEN ${f.status[0]}00 AND ${f.status[0]}99`);
  else if (f.status) where.push(`status_code = ${Number(f.status)}`);
  if (f.served_entity) where.push(`element_at(request_metadata, 'served_entity_name') = ${literal(f.served_entity)}`);
  if (f.requester) where.push(`requester = ${literal(f.requester)}`);
  if (f.client_request_id) where.push(`client_request_id = ${literal(f.client_request_id)}`);
  return where;
}

/** One page of an endpoint's requests, newest first, one row more than the page to tell whether another follows. */
export function requestListSql(f: RequestFilter): string {
  const where = requestConditions(f);
  return [
    `SELECT request_id, client_request_id, CAST(request_time AS VARCHAR) AS request_time, "date", status_code, execution_time_ms,`,
    `       element_at(request_metadata, 'served_entity_name') AS served_entity_name, requester, array_join(logging_error_codes, ', ') AS logging_error_codes`,
    `FROM ${tableName(f.endpoint, 'payload')}`,
    where.length > 0 ? `WHERE ${where.join('\n  AND ')}` : '',
    `ORDER BY timestamp_ms DESC, request_id`,
    `OFFSET ${f.page * f.page_size} LIMIT ${f.page_size + 1}`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}

/** A request's date partition, when the page knows it (from the list): the read is then of one day's files. */
export const requestDateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, e.g. 2026-11-30');

/** One captured request, whole. */
export function requestSql(endpoint: string, requestId: string, date?: string): string {
  // Athena answers maps and arrays as text of its own: the page gets their parts as columns.
  return `SELECT request_id, client_request_id, CAST(request_time AS VARCHAR) AS request_time, status_code, sampling_fraction, execution_time_ms, request, response,
  element_at(request_metadata, 'served_entity_name') AS served_entity_name, element_at(request_metadata, 'model_name') AS model_name, element_at(request_metadata, 'model_version') AS model_version,
  served_entity_id, array_join(logging_error_codes, ', ') AS logging_error_codes, requester, request_format, streamed, time_to_first_token_ms, input_tokens, output_tokens, tokens_counted
FROM ${tableName(endpoint, 'payload')} WHERE request_id = ${literal(requestId)}${date ? ` AND "date" = ${literal(date)}` : ''}`;
}

/** The unpacked rows of one request, with their labels (the unpacked table's date is a DATE). */
export function unpackedRowsSql(endpoint: string, requestId: string, date?: string): string {
  return `SELECT * FROM ${tableName(endpoint, 'unpacked')} WHERE request_id = ${literal(requestId)}${date ? ` AND "date" = DATE ${literal(date)}` : ''} ORDER BY row_index`;
}

/** How far back the endpoints view looks for an endpoint's last request. */
export const LAST_REQUEST_DAYS = 7;

/**
 * Rows of each table (Parquet footers: no column is read), and for payload tables the time of
 * the last request of the past {@link LAST_REQUEST_DAYS} days, its own branch so Athena reads
 * only those days' files rather than every request_time kept.
 */
export function tableCountsSql(tables: readonly string[], now: Date): string {
  const since = day(new Date(now.getTime() - LAST_REQUEST_DAYS * 86_400_000));
  return tables
    .flatMap((t) => [
      `SELECT ${literal(t)} AS table_name, count(*) AS row_count, CAST(NULL AS VARCHAR) AS last_request FROM ${t}`,
      ...(t.endsWith('_payload') ? [`SELECT ${literal(t)}, CAST(NULL AS BIGINT), CAST(max(request_time) AS VARCHAR) FROM ${t} WHERE "date" >= ${literal(since)}`] : []),
    ])
    .join('\nUNION ALL\n');
}

/** The rows of one monitoring view: a model (`*` for all) and a slice (`null` for the whole window). */
export interface MonitoringScope {
  readonly endpoint: string;
  readonly model_id: string;
  readonly slice_key: string | null;
  readonly slice_value: string | null;
  /** The slice column's type in the metrics (`DOUBLE`, `BIGINT`, `BOOLEAN`, `VARCHAR`), null when not profiled. */
  readonly slice_type: string | null;
}

/**
 * Rows of a slice value. The refresh names a slice by its value as text (JavaScript's: 3, not
 * Athena's 3.0E0), so a typed column is compared by value, not by its SQL text.
 */
function sliceCondition(key: string, value: string, type: string | null): string {
  const column = quoted(key);
  if (type === 'DOUBLE' && value.trim() !== '' && Number.isFinite(Number(value))) return `${column} = ${double(Number(value))}`;
  if (type === 'BIGINT' && /^-?\d{1,18}$/.test(value)) return `${column} = ${value}`;
  if (type === 'BOOLEAN' && (value === 'true' || value === 'false')) return `${column} = ${value}`;
  return `CAST(${column} AS VARCHAR) = ${literal(value)}`;
}

/** The unpacked rows of a scope in [from, to). */
export function scopeConditions(s: MonitoringScope, from: Date, to: Date, column: string): string[] {
  // The date bounds the days read (the unpacked table's date is the UTC date of its timestamp).
  const where = [`"date" BETWEEN DATE ${literal(day(from))} AND DATE ${literal(day(new Date(to.getTime() - 1)))}`, `"timestamp" >= ${timestampLiteral(from)}`, `"timestamp" < ${timestampLiteral(to)}`, `${quoted(column)} IS NOT NULL`];
  if (s.model_id !== '*') where.push(`model_id = ${literal(s.model_id)}`);
  if (s.slice_key) where.push(sliceCondition(s.slice_key, s.slice_value ?? '', s.slice_type));
  return where;
}

/** A column name the page sends, checked against the names unpacked columns may have. */
export const columnNameSchema = z.string().regex(/^[a-z_][a-z0-9_]{0,127}$/, 'must be an unpacked column name');

const quoted = (column: string) => `"${columnNameSchema.parse(column)}"`;

/** The side of a row: the current window or the one before it. */
const side = (current: Date) => `CASE WHEN "timestamp" >= ${timestampLiteral(current)} THEN 'current' ELSE 'previous' END`;

/** Bounds of a numeric column over the current and previous windows. */
export function numericRangeSql(s: MonitoringScope, previous: Date, current: Date, end: Date, column: string): string {
  return `SELECT min(CAST(${quoted(column)} AS DOUBLE)) AS lo, max(CAST(${quoted(column)} AS DOUBLE)) AS hi
FROM ${tableName(s.endpoint, 'unpacked')} WHERE ${scopeConditions(s, previous, end, column).join(' AND ')} AND is_finite(CAST(${quoted(column)} AS DOUBLE))`;
}

/**
 * The width of `bins` equal bins over [lo, hi], or null when there is no finite one (one value,
 * or a range wider than a double: hi − lo would overflow, so it is taken as hi/bins − lo/bins).
 */
export function binWidth(lo: number, hi: number, bins: number): number | null {
  const width = hi / bins - lo / bins;
  return width > 0 && Number.isFinite(width) ? width : null;
}

/** Counts of a numeric column in `bins` equal bins over [lo, hi], per side; the top edge belongs to the last bin. */
export function numericBinsSql(s: MonitoringScope, previous: Date, current: Date, end: Date, column: string, lo: number, hi: number, bins: number): string {
  const v = `CAST(${quoted(column)} AS DOUBLE)`;
  const width = binWidth(lo, hi, bins);
  // v/w − lo/w rather than (v − lo)/w: each term is finite where the difference may not be.
  const bin = width !== null ? `least(${bins - 1}, greatest(0, CAST(floor(${v} / ${double(width)} - (${double(lo)}) / ${double(width)}) AS BIGINT)))` : '0';
  return `SELECT ${side(current)} AS side, ${bin} AS bin, count(*) AS n
FROM ${tableName(s.endpoint, 'unpacked')} WHERE ${scopeConditions(s, previous, end, column).join(' AND ')} AND is_finite(${v})
GROUP BY 1, 2`;
}

/** Counts of a categorical column's values per side. */
export function categoryCountsSql(s: MonitoringScope, previous: Date, current: Date, end: Date, column: string): string {
  return `SELECT ${side(current)} AS side, CAST(${quoted(column)} AS VARCHAR) AS value, count(*) AS n
FROM ${tableName(s.endpoint, 'unpacked')} WHERE ${scopeConditions(s, previous, end, column).join(' AND ')}
GROUP BY 1, 2`;
}

/** Profile columns the window view shows, as numbers. */
const PROFILE_NUMBERS = ['count', 'num_nulls', 'percent_null', 'avg', 'stddev', 'min', 'max', 'median', 'distinct_count', 'accuracy_score', 'roc_auc', 'log_loss', 'mean_absolute_error', 'mean_squared_error', 'root_mean_squared_error', 'r2_score', 'mean_absolute_percentage_error', 'labeled_count', 'label_coverage', 'request_count', 'error_rate', 'latency_p50_ms', 'latency_p99_ms'];
/** Profile columns that are rows, read as JSON text (Athena prints a ROW in a form of its own). */
export const PROFILE_ROWS = ['precision', 'recall', 'f1_score', 'confusion_matrix'];
/** Drift columns that are rows. */
export const DRIFT_ROWS = ['ks_test', 'chi_squared_test'];

const asJson = (c: string) => `json_format(CAST("${c}" AS JSON)) AS "${c}"`;

/** The profile rows of one scope and window. */
export function windowProfileSql(profile: string, keys: string): string {
  return `SELECT column_name, data_type, ${PROFILE_NUMBERS.map((c) => `"${c}"`).join(', ')}, ${PROFILE_ROWS.map(asJson).join(', ')} FROM ${profile} WHERE ${keys} ORDER BY column_name`;
}

/** The drift rows of one scope and window. */
export function windowDriftSql(drift: string, keys: string): string {
  return `SELECT column_name, drift_type, js_distance, population_stability_index, wasserstein_distance, ${DRIFT_ROWS.map(asJson).join(', ')}, pvalue_adjusted, base_count, current_count, verdict FROM ${drift} WHERE ${keys} ORDER BY column_name, drift_type`;
}
