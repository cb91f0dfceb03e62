import { type Dialect, literal } from './refresh-sql.js';
import { type ColumnType, type FeatureColumn, type Signature, columnTypeOf, declaredColumns } from './unpacked-schema.js';

/**
 * The unpack as SQL, for the engine: the captured requests of the four MLflow input formats
 * whose every value fits the declared signature become typed prediction rows in one
 * statement, in DuckDB or Athena (Trino). Only what the engine can judge exactly is taken: a
 * request with anything else (a value not of its declared type, a feature missing or not
 * declared, rows and predictions that differ in number, non-finite or unsafe numbers, nested
 * values, predictions that are objects or lists) is left, whole, to the JavaScript unpacker,
 * which keeps its reasons and counts. Both paths write the same rows (`unpack-sql.test.ts`).
 */

/** The input formats the engine unpacks; CSV and LLM bodies stay with the JavaScript unpacker. */
export const SQL_INPUT_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** Feature names the statements can name in a JSON path of either engine without escaping. */
const PLAIN_NAME = /^[A-Za-z0-9_ .:/-]{1,128}$/;
/** JSON numbers, and JSON integers JavaScript holds exactly (|n| ≤ 2^53 - 1). */
const NUMBER = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?';
const INTEGER = '-?(0|[1-9][0-9]*)';
const SAFE_INTEGER = 9007199254740991;

/** What the statements are generated from: the declared features and the single declared output. */
export interface SqlUnpack {
  readonly features: readonly FeatureColumn[];
  readonly outcome: ColumnType;
}

/**
 * The engine's part of an endpoint's unpack, or null when the JavaScript unpacker takes every
 * request: without a signature declaring the features and one output, types come from the data.
 */
export function sqlUnpackOf(signature: Signature | undefined): SqlUnpack | null {
  const output = signature?.outputs?.length === 1 ? signature.outputs[0] : undefined;
  if (!signature || !output || signature.inputs.length === 0) return null;
  const features = declaredColumns(signature);
  const distinct = (values: string[]) => new Set(values).size === values.length;
  if (!features.every((f) => PLAIN_NAME.test(f.feature)) || !distinct(features.map((f) => f.feature)) || !distinct(features.map((f) => f.column))) return null;
  return { features, outcome: columnTypeOf(output.type) };
}

/** True when a payload row is the engine's to unpack (the JavaScript unpacker leaves it). */
export function takenBySql(sql: SqlUnpack | null, statusCode: number, requestFormat: string | null | undefined): boolean {
  return sql !== null && statusCode >= 200 && statusCode <= 299 && (SQL_INPUT_FORMATS as readonly string[]).includes(requestFormat ?? '');
}

/** The JSON and list functions of each engine, as SQL text builders. */
interface JsonSql {
  parse(text: string): string;
  member(json: string, key: string): string;
  list(json: string): string;
  text(json: string): string;
  str(json: string): string;
  len(list: string): string;
  at(list: string, i: string): string;
  all(list: string, v: string, cond: string): string;
  map(list: string, v: string, expr: string): string;
  sortedKeys(json: string): string;
  sort(list: string): string;
  hour(ms: string): string;
  seq(n: string): string;
  full(text: string, pattern: string): string;
  finite(x: string): string;
  array(items: readonly string[]): string;
  position(list: string, item: string): string;
  mapGet(map: string, key: string): string;
  doubles: string;
  agg(expr: string): string;
}

const DUCKDB: JsonSql = {
  parse: (t) => `CASE WHEN json_valid(${t}) THEN CAST(${t} AS JSON) END`,
  member: (j, k) => `json_extract(${j}, ${literal(`$."${k}"`)})`,
  list: (j) => `TRY_CAST(${j} AS JSON[])`,
  text: (j) => `CAST(${j} AS VARCHAR)`,
  str: (j) => `json_extract_string(${j}, '$')`,
  len: (l) => `len(${l})`,
  at: (l, i) => `list_extract(${l}, ${i})`,
  // bool_and skips NULLs: every condition is made true or false first.
  all: (l, v, c) => `COALESCE(list_bool_and(list_transform(${l}, ${v} -> COALESCE(${c}, false))), true)`,
  map: (l, v, e) => `list_transform(${l}, ${v} -> ${e})`,
  sortedKeys: (j) => `list_sort(json_keys(${j}))`,
  sort: (l) => `list_sort(${l})`,
  hour: (ms) => `(${ms} // 3600000) * 3600000`,
  seq: (n) => `range(1, ${n} + 1)`,
  full: (t, p) => `regexp_full_match(${t}, ${literal(p)})`,
  finite: (x) => `isfinite(${x})`,
  array: (items) => `[${items.join(', ')}]`,
  position: (l, item) => `list_position(${l}, ${item})`,
  mapGet: (m, k) => `${m}[${literal(k)}]`,
  doubles: 'DOUBLE[]',
  agg: (e) => `list(DISTINCT ${e})`,
};

const ATHENA: JsonSql = {
  parse: (t) => `TRY(json_parse(${t}))`,
  member: (j, k) => `json_extract(${j}, ${literal(`$["${k}"]`)})`,
  list: (j) => `TRY_CAST(${j} AS ARRAY(JSON))`,
  text: (j) => `json_format(${j})`,
  str: (j) => `json_extract_scalar(${j}, '$')`,
  len: (l) => `cardinality(${l})`,
  at: (l, i) => `element_at(${l}, ${i})`,
  all: (l, v, c) => `all_match(${l}, ${v} -> COALESCE(${c}, false))`,
  map: (l, v, e) => `transform(${l}, ${v} -> ${e})`,
  sortedKeys: (j) => `array_sort(map_keys(TRY_CAST(${j} AS MAP(VARCHAR, JSON))))`,
  sort: (l) => `array_sort(${l})`,
  hour: (ms) => `(${ms} / 3600000) * 3600000`,
  // sequence(1, 0) counts down in Trino.
  seq: (n) => `IF(${n} > 0, sequence(1, ${n}), ARRAY[])`,
  full: (t, p) => `regexp_like(${t}, ${literal(`^(${p})$`)})`,
  finite: (x) => `is_finite(${x})`,
  array: (items) => `ARRAY[${items.join(', ')}]`,
  position: (l, item) => `array_position(${l}, ${item})`,
  mapGet: (m, k) => `element_at(${m}, ${literal(k)})`,
  doubles: 'ARRAY(DOUBLE)',
  agg: (e) => `array_agg(DISTINCT ${e})`,
};

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A JSON value's checks and its stored value, for one declared type. */
function typed(j: JsonSql, type: ColumnType, v: string): { fits: string; value: string } {
  const t = j.text(v);
  const isNull = `(${v} IS NULL OR ${t} = 'null')`;
  const num = `TRY_CAST(${t} AS DOUBLE)`;
  switch (type) {
    case 'DOUBLE':
      // -0 is written 0 by the JavaScript path: leave it there.
      return { fits: `(${isNull} OR (${j.full(t, NUMBER)} AND ${j.finite(num)} AND NOT (${num} = 0 AND starts_with(${t}, '-'))))`, value: num };
    case 'BIGINT':
      return { fits: `(${isNull} OR (${j.full(t, INTEGER)} AND abs(${num}) <= ${SAFE_INTEGER}))`, value: `TRY_CAST(${t} AS BIGINT)` };
    case 'BOOLEAN':
      return { fits: `(${isNull} OR ${t} IN ('true', 'false'))`, value: `CASE ${t} WHEN 'true' THEN true WHEN 'false' THEN false END` };
    case 'VARCHAR':
      // An escaped lone surrogate has no UTF-8 form: the JavaScript path decides what it becomes.
      return { fits: `(${isNull} OR (starts_with(${t}, '"') AND NOT ${j.full(t, '.*\\\\u[dD][89a-fA-F].*')}))`, value: j.str(v) };
  }
}

/** A prediction as staged (text, cast to the table's type by the commit). */
function predictionText(j: JsonSql, v: string): string {
  const t = j.text(v);
  return `CASE WHEN ${v} IS NULL OR ${t} = 'null' THEN NULL WHEN starts_with(${t}, '"') THEN ${j.str(v)} ELSE ${t} END`;
}

/** The payload rows the engine judges: 2xx requests of its formats, with their JSON parsed. */
function judged(d: Dialect, sql: SqlUnpack, source: string): string {
  const j = d === 'athena' ? ATHENA : DUCKDB;
  const names = sql.features.map((f) => f.feature);
  const sorted = j.array([...names].sort().map(literal));
  const K = names.length;
  const body = `CASE request_format ${SQL_INPUT_FORMATS.map((f) => `WHEN ${literal(f)} THEN ${j.member('rq', f)}`).join(' ')} END`;
  const isArray = (v: string) => `starts_with(${j.text(v)}, '[')`;
  const isObject = (v: string) => `starts_with(${j.text(v)}, '{')`;
  const objectsRow = (o: string) => j.array(names.map((n) => j.member(o, n)));
  // Each shape becomes rows of the declared features, in declared order, or NULL.
  const splitColumns = j.list(j.member('body', 'columns'));
  const splitNames = j.map(splitColumns, 'c', j.str('c'));
  const split = {
    ok: `${j.all(splitColumns, 'c', `starts_with(${j.text('c')}, '"')`)} AND ${j.len(splitColumns)} = ${K} AND ${j.sort(splitNames)} = ${sorted}
      AND ${j.all(j.list(j.member('body', 'data')), 'r', `${isArray('r')} AND ${j.len(j.list('r'))} = ${K}`)}`,
    rows: j.map(j.list(j.member('body', 'data')), 'r', j.array(names.map((n) => j.at(j.list('r'), j.position(splitNames, literal(n)))))),
  };
  const records = {
    ok: j.all(j.list('body'), 'o', `${isObject('o')} AND ${j.sortedKeys('o')} = ${sorted}`),
    rows: j.map(j.list('body'), 'o', objectsRow('o')),
  };
  const tensor = {
    ok: j.all(j.list('body'), 'r', `${isArray('r')} AND ${j.len(j.list('r'))} = ${K}`),
    rows: j.map(j.list('body'), 'r', j.list('r')),
  };
  const first = j.list(j.member('body', names[0] as string));
  const columns = {
    ok: `${j.sortedKeys('body')} = ${sorted} AND ${names.map((n) => `${j.len(j.list(j.member('body', n)))} = ${j.len(first)}`).join(' AND ')}`,
    rows: j.map(j.seq(j.len(first)), 'i', j.array(names.map((n) => j.at(j.list(j.member('body', n)), 'i')))),
  };
  const shape = `CASE
      WHEN rq IS NULL OR rs IS NULL OR body IS NULL THEN NULL
      WHEN request_format = 'dataframe_split' THEN CASE WHEN ${isObject('body')} AND ${split.ok} THEN 'split' END
      WHEN request_format = 'inputs' AND ${isObject('body')} THEN CASE WHEN ${columns.ok} THEN 'columns' END
      WHEN ${isArray('body')} AND (request_format = 'dataframe_records' OR ${j.len(j.list('body'))} = 0 OR ${j.all(j.list('body'), 'o', isObject('o'))}) THEN CASE WHEN ${records.ok} THEN 'records' END
      WHEN ${isArray('body')} AND request_format <> 'dataframe_records' THEN CASE WHEN ${tensor.ok} THEN 'tensor' END
    END`;
  const rows = `CASE shape WHEN 'split' THEN ${split.rows} WHEN 'records' THEN ${records.rows} WHEN 'tensor' THEN ${tensor.rows} WHEN 'columns' THEN ${columns.rows} END`;
  const predictions = `CASE WHEN ${isArray('rs')} THEN ${j.list('rs')} WHEN ${isObject('rs')} THEN ${j.list(j.member('rs', 'predictions'))} END`;
  const fitsRow = sql.features.map((f, i) => typed(j, f.type, j.at('r', String(i + 1))).fits).join(' AND ');
  const fitsPrediction = typed(j, sql.outcome, 'p').fits;
  return `src AS (
  SELECT request_id, client_request_id, timestamp_ms, status_code, request, response, CAST("date" AS VARCHAR) AS "date",
    ${j.mapGet('request_metadata', 'model_name')} AS model_name, ${j.mapGet('request_metadata', 'model_version')} AS model_version,
    request_format, ${j.parse('request')} AS rq, ${j.parse('response')} AS rs
  FROM ${source}
  WHERE status_code BETWEEN 200 AND 299 AND request_format IN (${SQL_INPUT_FORMATS.map(literal).join(', ')})
), bodies AS (
  SELECT *, ${body} AS body FROM src
), shaped AS (
  SELECT *, ${shape} AS shape FROM bodies
), unpacked AS (
  SELECT *, ${rows} AS decl, ${predictions} AS preds FROM shaped
), judged AS (
  SELECT *, COALESCE(decl IS NOT NULL AND preds IS NOT NULL AND ${j.len('decl')} = ${j.len('preds')}
    AND ${j.all('decl', 'r', fitsRow)} AND ${j.all('preds', 'p', fitsPrediction)}, false) AS clean
  FROM unpacked
)`;
}

/**
 * The predictions of the requests the engine unpacks, in the columns of the staged rows the
 * commit merges (`request_id` … `model_version`, the features, `prediction` as text,
 * `probabilities`).
 * @param source a FROM item of payload rows (`read_parquet(…)` or the payload table, filtered)
 */
export function sqlPredictions(d: Dialect, sql: SqlUnpack, source: string): string {
  const j = d === 'athena' ? ATHENA : DUCKDB;
  const values = sql.features.map((f, i) => `${typed(j, f.type, j.at('u.r', String(i + 1))).value} AS ${q(f.column)}`);
  return `WITH ${judged(d, sql, source)}
SELECT request_id, client_request_id, CAST(u.n - 1 AS INTEGER) AS row_index, timestamp_ms, "date", model_name, model_version,
  ${values.join(', ')}, ${predictionText(j, j.at('preds', 'u.n'))} AS prediction, CAST(NULL AS ${j.doubles}) AS probabilities
FROM judged CROSS JOIN UNNEST(decl) WITH ORDINALITY AS u(r, n)
WHERE clean`;
}

/** The requests of the engine's formats it leaves to the JavaScript unpacker, with what it reads of them. */
export function sqlLeftovers(d: Dialect, sql: SqlUnpack, source: string): string {
  return `WITH ${judged(d, sql, source)}
SELECT request_id, client_request_id, timestamp_ms, status_code, request, response, model_name, model_version, "date"
FROM judged WHERE NOT clean`;
}

/** What the engine unpacked, for the run's summary: requests, predictions, their dates and hours, the newest instant. */
export function sqlSummary(d: Dialect, sql: SqlUnpack, source: string): string {
  const j = d === 'athena' ? ATHENA : DUCKDB;
  const has = `${j.len('decl')} > 0`;
  return `WITH ${judged(d, sql, source)}
SELECT count(*) AS requests, COALESCE(sum(${j.len('decl')}), 0) AS predictions,
  ${j.agg('"date"')} FILTER (WHERE ${has}) AS dates,
  ${j.agg(j.hour('timestamp_ms'))} FILTER (WHERE ${has}) AS hours,
  max(timestamp_ms) FILTER (WHERE ${has}) AS max_timestamp_ms
FROM judged WHERE clean`;
}
