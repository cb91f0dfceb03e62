import { type Dialect, literal } from './refresh-sql.js';
import { ATHENA, DUCKDB, type JsonSql, typed } from './unpack-sql-json.js';
import type { ColumnType, FeatureColumn } from './unpacked-schema.js';

/**
 * How the engine judges the captured requests it takes, in two forms that define the same two
 * relations for `unpack-sql.ts`: `requests` (every 2xx payload row of its formats, with `clean`
 * and `n_rows`) and `clean_rows` (one per prediction of a clean request: `n` from 1, the
 * declared features' JSON values `v1`…`vK` in declared order, the prediction `p`). DuckDB
 * judges row by row over unnested rows (vectorized); Athena with list functions per request.
 */

/** The input formats the engine unpacks; CSV and LLM bodies stay with the JavaScript unpacker. */
export const SQL_INPUT_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** What the statements are generated from: the declared features and the single declared output. */
export interface SqlUnpack {
  readonly features: readonly FeatureColumn[];
  readonly outcome: ColumnType;
}

const fmt = (formats: readonly string[]) => `request_format IN (${formats.map(literal).join(', ')})`;

/** The payload rows the engine takes, with their bodies checked as JSON and the format's value. */
function sourceCtes(j: JsonSql, source: string): string {
  const body = `CASE request_format ${SQL_INPUT_FORMATS.map((f) => `WHEN ${literal(f)} THEN ${j.member('rq', f)}`).join(' ')} END`;
  // payload_row tells apart the copies of a record delivered twice (they share a request_id).
  return `src AS (
  SELECT row_number() OVER () AS payload_row, request_id, client_request_id, timestamp_ms, status_code, request, response, CAST("date" AS VARCHAR) AS "date",
    ${j.mapGet('request_metadata', 'model_name')} AS model_name, ${j.mapGet('request_metadata', 'model_version')} AS model_version,
    request_format, ${j.parse('request')} AS rq, ${j.parse('response')} AS rs
  FROM ${source}
  WHERE status_code BETWEEN 200 AND 299 AND ${fmt(SQL_INPUT_FORMATS)}
), bodies AS (
  SELECT *, ${body} AS body FROM src
)`;
}

/** The CTEs that define `requests` and `clean_rows` over `source`, in the dialect's engine. */
export function judge(d: Dialect, sql: SqlUnpack, source: string): string {
  return d === 'athena' ? judgeInLists(ATHENA, sql, source) : judgeByRows(DUCKDB, sql, source);
}

/**
 * Athena's judge: each request's rows as lists of the declared features' JSON values (`decl`),
 * its predictions (`preds`), whether it is `clean`. Each body is parsed a bounded number of
 * times per request and each row once: a list function must never reach back into the whole
 * body (that made it quadratic).
 */
function judgeInLists(j: JsonSql, sql: SqlUnpack, source: string): string {
  const names = sql.features.map((f) => f.feature);
  const K = names.length;
  const isArray = (v: string) => `starts_with(${j.text(v)}, '[')`;
  const isObject = (v: string) => `starts_with(${j.text(v)}, '{')`;
  const columnIndex = (k: number) => `c${k}`;
  const fitsRow = sql.features.map((f, i) => typed(j, f.type, j.at('r', String(i + 1))).fits).join(' AND ');
  const fitsPrediction = typed(j, sql.outcome, 'p').fits;
  const rowsOk = (list: string, cond: string) => j.all(list, 'x', cond);
  const listBody = `(${fmt(['dataframe_records', 'instances'])} OR (request_format = 'inputs' AND ${isArray('body')}))`;
  return `${sourceCtes(j, source)}, parts AS (
  -- Each format reads only its own parts of the body.
  SELECT *,
    CASE WHEN ${listBody} THEN ${j.list('body')} END AS items,
    CASE WHEN request_format = 'dataframe_split' THEN ${j.list(j.member('body', 'data'))} END AS split_data,
    CASE WHEN request_format = 'dataframe_split' THEN ${j.list(j.member('body', 'columns'))} END AS split_columns,
    CASE WHEN request_format = 'inputs' AND ${isObject('body')} THEN ${j.extractMany('body', names.map(j.path))} END AS named
  FROM bodies
), lists AS (
  SELECT *,
    ${j.map('split_data', 'x', j.list('x'))} AS split_rows,
    ${j.map('split_columns', 'x', j.str('x'))} AS split_names,
    CASE WHEN ${j.len('items')} > 0 AND ${isObject(j.at('items', '1'))} THEN ${j.map('items', 'x', j.extractMany('x', names.map(j.path)))} END AS record_rows,
    CASE WHEN ${j.len('items')} > 0 AND NOT ${isObject(j.at('items', '1'))} THEN ${j.map('items', 'x', j.list('x'))} END AS tensor_rows,
    ${names.map((_, k) => `${j.list(j.at('named', String(k + 1)))} AS ${columnIndex(k)}`).join(', ')}
  FROM parts
), shaped AS (
  SELECT *, CASE
      WHEN rq IS NULL OR rs IS NULL OR body IS NULL THEN NULL
      WHEN request_format = 'dataframe_split' THEN CASE WHEN ${isObject('body')} AND split_rows IS NOT NULL AND ${j.len('split_names')} = ${K}
        AND ${rowsOk('split_columns', `starts_with(${j.text('x')}, '"')`)} AND ${j.sort('split_names')} = ${j.array([...names].sort().map(literal))}
        AND ${rowsOk('split_rows', `x IS NOT NULL AND ${j.len('x')} = ${K}`)} THEN 'split' END
      WHEN named IS NOT NULL THEN CASE WHEN ${j.keyCount('body')} = ${K}
        AND ${names.map((_, k) => `${columnIndex(k)} IS NOT NULL AND ${j.len(columnIndex(k))} = ${j.len(columnIndex(0))}`).join(' AND ')} THEN 'columns' END
      WHEN items IS NULL THEN NULL
      WHEN ${j.len('items')} = 0 THEN 'records'
      WHEN record_rows IS NOT NULL THEN CASE WHEN ${rowsOk('items', `${isObject('x')} AND ${j.keyCount('x')} = ${K}`)}
        AND ${j.all('record_rows', 'r', shapeValuesPresent(j, 'r', K))} THEN 'records' END
      WHEN request_format <> 'dataframe_records' THEN CASE WHEN ${rowsOk('tensor_rows', `x IS NOT NULL AND ${j.len('x')} = ${K}`)} THEN 'tensor' END
    END AS shape
  FROM lists
), unpacked AS (
  SELECT *, CASE shape
      WHEN 'split' THEN ${j.map('split_rows', 'x', j.select('x', j.array(names.map((n) => j.position('split_names', literal(n))))))}
      WHEN 'records' THEN COALESCE(record_rows, ${j.emptyRows})
      WHEN 'tensor' THEN tensor_rows
      WHEN 'columns' THEN ${j.map(j.seq(j.len(columnIndex(0))), 'i', j.array(names.map((_, k) => j.at(columnIndex(k), 'i'))))}
    END AS decl,
    CASE WHEN ${isArray('rs')} THEN ${j.list('rs')} WHEN ${isObject('rs')} THEN ${j.list(j.member('rs', 'predictions'))} END AS preds
  FROM shaped
), judged AS (
  SELECT *, COALESCE(decl IS NOT NULL AND preds IS NOT NULL AND ${j.len('decl')} = ${j.len('preds')}
    AND ${j.all('decl', 'r', fitsRow)} AND ${j.all('preds', 'p', fitsPrediction)}, false) AS clean
  FROM unpacked
), requests AS (
  SELECT *, COALESCE(${j.len('decl')}, 0) AS n_rows FROM judged
), clean_rows AS (
  SELECT payload_row, request_id, client_request_id, timestamp_ms, "date", model_name, model_version, u.n,
    ${names.map((_, k) => `${j.at('u.r', String(k + 1))} AS v${k + 1}`).join(', ')}, ${j.at('preds', 'u.n')} AS p
  FROM judged CROSS JOIN UNNEST(decl) WITH ORDINALITY AS u(r, n)
  WHERE clean
)`;
}

/** Every declared key of a record is there (its value may be a JSON null, which is not NULL here). */
function shapeValuesPresent(j: JsonSql, r: string, K: number): string {
  return Array.from({ length: K }, (_, i) => `${j.at(r, String(i + 1))} IS NOT NULL`).join(' AND ');
}


/**
 * DuckDB's judge: each shape's rows unnested once (`json_transform` parses a body once into
 * lists or structs of JSON values), the values checked column by column, and a request left
 * to the JavaScript unpacker when any of its rows fails. Vectorized throughout: no list lambda
 * touches a value (they cost more than the rest of the unpack).
 */
function judgeByRows(j: JsonSql, sql: SqlUnpack, source: string): string {
  const names = sql.features.map((f) => f.feature);
  const K = names.length;
  const sorted = j.array([...names].sort().map(literal));
  const types = (path: string) => `list_distinct(json_type(body, ${literal(path)}))`;
  const onlyType = (path: string, type: string) => `(${types(path)} = [${literal(type)}])`;
  const v = (k: number) => `v${k + 1}`;
  const fits = [...sql.features.map((f, k) => typed(j, f.type, v(k)).fits), typed(j, sql.outcome, 'p').fits].join(' AND ');
  const kept = 'payload_row, request_id, client_request_id, timestamp_ms, "date", model_name, model_version';
  const struct = literal(`[{${names.map((n) => `${JSON.stringify(n)}:"JSON"`).join(',')}}]`);
  return `${sourceCtes(j, source)}, req AS (
  SELECT *, CASE
      WHEN rq IS NULL OR rs IS NULL OR body IS NULL THEN NULL
      WHEN request_format = 'dataframe_split' THEN CASE WHEN json_type(body) = 'OBJECT' AND json_type(body, '$.data') = 'ARRAY'
        AND ${onlyType('$.columns[*]', 'VARCHAR')} AND json_array_length(body, '$.columns') = ${K}
        AND list_sort(CAST(json_extract(body, '$.columns') AS VARCHAR[])) = ${sorted} THEN 'split' END
      WHEN request_format = 'inputs' AND json_type(body) = 'OBJECT' THEN CASE WHEN list_sort(json_keys(body)) = ${sorted}
        AND ${names.map((n) => `json_type(body, ${literal(j.path(n))}) = 'ARRAY' AND json_array_length(body, ${literal(j.path(n))}) = json_array_length(body, ${literal(j.path(names[0] as string))})`).join(' AND ')} THEN 'columns' END
      WHEN json_type(body) <> 'ARRAY' OR json_array_length(body) = 0 THEN NULL
      WHEN request_format = 'dataframe_records' OR json_type(body, '$[0]') = 'OBJECT' THEN CASE WHEN ${onlyType('$[*]', 'OBJECT')}
        AND list_sort(list_distinct(flatten(json_keys(body, '$[*]')))) = ${sorted} THEN 'records' END
      WHEN ${onlyType('$[*]', 'ARRAY')} THEN 'tensor'
    END AS shape,
    json_transform(CASE WHEN starts_with(rs, '[') THEN rs WHEN starts_with(rs, '{') THEN json_extract(rs, '$.predictions') END, '["JSON"]') AS preds
  FROM bodies
), sized AS (
  SELECT *, CASE shape WHEN 'split' THEN json_array_length(body, '$.data') WHEN 'columns' THEN json_array_length(body, ${literal(j.path(names[0] as string))})
      ELSE json_array_length(body) END AS n_rows,
    ${names.map((n, k) => `list_position(CAST(json_extract(body, '$.columns') AS VARCHAR[]), ${literal(n)}) AS pos${k + 1}`).join(', ')}
  FROM req
), ok AS MATERIALIZED (
  -- Read by every shape's rows and by the requests: computed once.
  SELECT *, COALESCE(shape IS NOT NULL AND preds IS NOT NULL AND len(preds) = n_rows, false) AS req_ok FROM sized
), rows_split AS (
  SELECT ${kept}, u.n, u.cells IS NOT NULL AND len(u.cells) = ${K} AS cells_ok, ${names.map((_, k) => `list_extract(u.cells, pos${k + 1}) AS ${v(k)}`).join(', ')}, list_extract(preds, u.n) AS p
  FROM ok CROSS JOIN UNNEST(json_transform(json_extract(body, '$.data'), '[["JSON"]]')) WITH ORDINALITY AS u(cells, n) WHERE req_ok AND shape = 'split'
), rows_tensor AS (
  SELECT ${kept}, u.n, u.cells IS NOT NULL AND len(u.cells) = ${K} AS cells_ok, ${names.map((_, k) => `list_extract(u.cells, ${k + 1}) AS ${v(k)}`).join(', ')}, list_extract(preds, u.n) AS p
  FROM ok CROSS JOIN UNNEST(json_transform(body, '[["JSON"]]')) WITH ORDINALITY AS u(cells, n) WHERE req_ok AND shape = 'tensor'
), rows_records AS (
  SELECT ${kept}, u.n, true AS cells_ok, ${names.map((n, k) => `u.rec.${JSON.stringify(n)} AS ${v(k)}`).join(', ')}, list_extract(preds, u.n) AS p
  FROM ok CROSS JOIN UNNEST(json_transform(body, ${struct})) WITH ORDINALITY AS u(rec, n) WHERE req_ok AND shape = 'records'
), rows_columns AS (
  SELECT ${kept}, n, true AS cells_ok, ${names.map((_, k) => v(k)).join(', ')}, list_extract(preds, n) AS p FROM (
    SELECT *, ${names.map((n, k) => `unnest(json_transform(json_extract(body, ${literal(j.path(n))}), '["JSON"]')) AS ${v(k)}`).join(', ')},
      generate_subscripts(json_transform(json_extract(body, ${literal(j.path(names[0] as string))}), '["JSON"]'), 1) AS n
    FROM ok WHERE req_ok AND shape = 'columns')
), checked AS MATERIALIZED (
  SELECT *, COALESCE(cells_ok AND ${fits}, false) AS row_ok FROM (
    SELECT * FROM rows_split UNION ALL SELECT * FROM rows_tensor UNION ALL SELECT * FROM rows_records UNION ALL SELECT * FROM rows_columns)
), bad AS (
  SELECT DISTINCT payload_row FROM checked WHERE NOT row_ok
), requests AS (
  SELECT *, req_ok AND payload_row NOT IN (SELECT payload_row FROM bad) AS clean FROM ok
), clean_rows AS (
  SELECT * FROM checked WHERE payload_row NOT IN (SELECT payload_row FROM bad)
)`;
}
