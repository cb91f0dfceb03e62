import { type Dialect, literal } from './refresh-sql.js';
import { ATHENA, DUCKDB, type JsonSql, type ListSql, predictionText, typed } from './unpack-sql-json.js';
import type { ColumnType, FeatureColumn } from './unpacked-schema.js';

/**
 * How the engine judges the captured requests it takes, in two forms that define the same two
 * relations for `unpack-sql.ts`: `requests` (every 2xx payload row of its formats, with `clean`
 * and `n_rows`) and `clean_rows` (one per prediction of a clean request, with the request's
 * columns and `n_rows`: `n` from 1, the declared features' values `v1`…`vK` in declared order
 * and of their declared types, the prediction `p` as text). DuckDB judges each request whole
 * (patterns, wildcard paths), then unnests its rows; Athena with list functions per request.
 */

/** The JSON input formats the engine unpacks (CSV too in DuckDB: see `SqlUnpack.formats`); LLM bodies stay with the JavaScript unpacker. */
export const SQL_INPUT_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** What the statements are generated from: the declared features and the single declared output. */
export interface SqlUnpack {
  readonly features: readonly FeatureColumn[];
  readonly outcome: ColumnType;
  /** The input formats the engine takes for this signature (CSV only where every feature is a double, and only in DuckDB). */
  readonly formats: readonly string[];
}

/** The JSON types (DuckDB's json_type) a value of each declared type may not have. */
const NOT_OF: Readonly<Record<ColumnType, readonly string[]>> = {
  DOUBLE: ['VARCHAR', 'BOOLEAN', 'ARRAY', 'OBJECT'],
  // 1.0 is an integer to JavaScript: the JavaScript path decides.
  BIGINT: ['DOUBLE', 'VARCHAR', 'BOOLEAN', 'ARRAY', 'OBJECT'],
  BOOLEAN: ['BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR', 'ARRAY', 'OBJECT'],
  VARCHAR: ['BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN', 'ARRAY', 'OBJECT'],
};

const fmt = (formats: readonly string[]) => `request_format IN (${formats.map(literal).join(', ')})`;

/** The payload rows the engine takes, with their bodies checked as JSON and the format's value. */
function sourceCtes(j: JsonSql, source: string, formats: readonly string[], rowId: string): string {
  const body = `CASE request_format ${SQL_INPUT_FORMATS.map((f) => `WHEN ${literal(f)} THEN ${j.member('rq', f)}`).join(' ')} END`;
  // payload_row tells apart the copies of a record delivered twice (they share a request_id).
  return `src AS (
  SELECT ${rowId} AS payload_row, request_id, client_request_id, timestamp_ms, status_code, request, response, CAST("date" AS VARCHAR) AS "date",
    ${j.mapGet('request_metadata', 'model_name')} AS model_name, ${j.mapGet('request_metadata', 'model_version')} AS model_version,
    request_format, ${j.parse('request')} AS rq, ${j.parse('response')} AS rs
  FROM ${source}
  WHERE status_code BETWEEN 200 AND 299 AND ${fmt(formats)}
), bodies AS (
  SELECT *, ${body} AS body FROM src
)`;
}

/**
 * The CTEs that define `requests` over `source` (ending with it), and the one that defines
 * `clean_rows` from `requests`, in the dialect's engine. `rowId` numbers the source's rows.
 */
export function judge(d: Dialect, sql: SqlUnpack, source: string, rowId: string): { readonly requests: string; readonly rows: string } {
  const text = d === 'athena' ? judgeInLists(ATHENA, sql, source, rowId) : judgeByRows(DUCKDB, sql, source, rowId);
  // Both judges define clean_rows last, from requests alone.
  const cut = text.lastIndexOf('), clean_rows AS (');
  return { requests: `${text.slice(0, cut)})`, rows: text.slice(cut + 3) };
}

/**
 * Athena's judge: each request's rows as lists of the declared features' JSON values (`decl`),
 * its predictions (`preds`), whether it is `clean`. Each body is parsed a bounded number of
 * times per request and each row once: a list function must never reach back into the whole
 * body (that made it quadratic).
 */
function judgeInLists(j: ListSql, sql: SqlUnpack, source: string, rowId: string): string {
  const names = sql.features.map((f) => f.feature);
  const K = names.length;
  const isArray = (v: string) => `starts_with(${j.text(v)}, '[')`;
  const isObject = (v: string) => `starts_with(${j.text(v)}, '{')`;
  const columnIndex = (k: number) => `c${k}`;
  const fitsRow = sql.features.map((f, i) => typed(j, f.type, j.at('r', String(i + 1))).fits).join(' AND ');
  const fitsPrediction = typed(j, sql.outcome, 'p').fits;
  const rowsOk = (list: string, cond: string) => j.all(list, 'x', cond);
  const listBody = `(${fmt(['dataframe_records', 'instances'])} OR (request_format = 'inputs' AND ${isArray('body')}))`;
  return `${sourceCtes(j, source, sql.formats, rowId)}, parts AS (
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
  SELECT payload_row, request_id, client_request_id, timestamp_ms, status_code, "date", model_name, model_version, ${j.len('decl')} AS n_rows, u.n,
    ${sql.features.map((f, k) => `${typed(j, f.type, j.at('u.r', String(k + 1))).value} AS v${k + 1}`).join(', ')}, ${predictionText(j, j.at('preds', 'u.n'))} AS p
  FROM judged CROSS JOIN UNNEST(decl) WITH ORDINALITY AS u(r, n)
  WHERE clean
)`;
}

/** Every declared key of a record is there (its value may be a JSON null, which is not NULL here). */
function shapeValuesPresent(j: ListSql, r: string, K: number): string {
  return Array.from({ length: K }, (_, i) => `${j.at(r, String(i + 1))} IS NOT NULL`).join(' AND ');
}


/**
 * DuckDB's judge: every check is made per request, over all its values at once (json_type and
 * json_array_length of wildcard paths, regular expressions over the body's text), so the rows
 * are unnested only to be written (`json_transform` parses a body once into lists or structs
 * of JSON values). Vectorized throughout: no list lambda touches a value, no row is checked
 * (both cost more than the rest of the unpack). What a check cannot tell exactly goes to the
 * JavaScript path: any run of 16 digits when an integer is declared (2^53 has 16), any
 * exponent of three digits or 309 digits in a row for a double (past a double, which the
 * JavaScript protocol checks refuse).
 */
function judgeByRows(j: JsonSql, sql: SqlUnpack, source: string, rowId: string): string {
  const names = sql.features.map((f) => f.feature);
  const K = names.length;
  const sorted = j.array([...names].sort().map(literal));
  const distinct = (json: string, path: string) => `list_distinct(json_type(${json}, ${literal(path)}))`;
  const only = (json: string, path: string, type: string) => `(${distinct(json, path)} = [${literal(type)}])`;
  const v = (k: number) => `v${k + 1}`;
  const notOf = (type: ColumnType) => j.array(NOT_OF[type].map(literal));
  const cellPath = (shape: string, k: number) =>
    ({
      records: literal(`$[*].${JSON.stringify(names[k])}`),
      tensor: literal(`$[*][${k}]`),
      columns: literal(`${j.path(names[k] as string)}[*]`),
    })[shape] as string;
  // A split request orders its columns as it likes: the feature at each position says what its values may not be.
  const splitTypes = names
    .map((_, i) => `NOT list_has_any(json_type(body, ${literal(`$.data[*][${i}]`)}), CASE ${i + 1} ${sql.features.map((f, k) => `WHEN pos${k + 1} THEN ${notOf(f.type)}`).join(' ')} END)`)
    .join(' AND ');
  // With one declared type, one pattern over the body's text (DuckDB writes it without spaces)
  // judges a split's data, a tensor or records whole: shape, width, keys and types at once.
  const uniform = sql.features.every((f) => f.type === sql.features[0]?.type) ? (sql.features[0] as FeatureColumn).type : null;
  const pattern = uniform ? shapePatterns(names, uniform) : null;
  const typesOk = `CASE shape WHEN 'csv' THEN true ${pattern ? '' : `WHEN 'split' THEN ${splitTypes} `}${(pattern ? ['columns'] : ['records', 'tensor', 'columns'])
    .map((shape) => `WHEN '${shape}' THEN ${sql.features.map((f, k) => `NOT list_has_any(json_type(body, ${cellPath(shape, k)}), ${notOf(f.type)})`).join(' AND ')}`)
    .join(' ')} ELSE ${pattern ? 'true' : 'NULL'} END`;
  const splitRows = pattern
    ? `regexp_full_match(CAST(json_extract(body, '$.data') AS VARCHAR), ${literal(pattern.rows)})`
    : `${only('body', '$.data[*]', 'ARRAY')} AND list_distinct(json_array_length(body, '$.data[*]')) = [${K}]`;
  const recordsOk = pattern ? `regexp_full_match(CAST(body AS VARCHAR), ${literal(pattern.records)})` : `${only('body', '$[*]', 'OBJECT')} AND list_sort(list_distinct(flatten(json_keys(body, '$[*]')))) = ${sorted}`;
  const tensorOk = pattern ? `regexp_full_match(CAST(body AS VARCHAR), ${literal(pattern.rows)})` : `${only('body', '$[*]', 'ARRAY')} AND list_distinct(json_array_length(body, '$[*]')) = [${K}]`;
  const predictionTypes = `CASE WHEN starts_with(rs, '[') THEN json_type(rs, '$[*]') ELSE json_type(rs, '$.predictions[*]') END`;
  const textChecks = (text: string, types: readonly ColumnType[]) => [
    ...(types.includes('BIGINT') ? [`NOT regexp_matches(${text}, '[0-9]{16}')`] : []),
    ...(types.includes('DOUBLE') ? [`NOT regexp_matches(${text}, '[0-9]{309}|[eE][+-]?[0-9]{3}')`] : []),
    // An escaped lone surrogate has no UTF-8 form: the JavaScript path decides what it becomes.
    ...(types.includes('VARCHAR') ? [`(strpos(${text}, '\\u') = 0 OR NOT regexp_matches(${text}, '\\\\u[dD][89a-fA-F]'))`] : []),
  ];
  const checks = [
    'shape IS NOT NULL',
    'preds IS NOT NULL',
    'len(preds) = n_rows',
    typesOk,
    `NOT list_has_any(${predictionTypes}, ${notOf(sql.outcome)})`,
    ...textChecks('request', sql.features.map((f) => f.type)),
    ...textChecks('response', [sql.outcome]),
  ];
  // Types were judged per request: a value is cast straight from JSON.
  const values = (at: (k: number) => string) => sql.features.map((f, k) => `${valueOf(f.type, at(k))} AS ${v(k)}`).join(', ');
  const prediction = `${predictionText(j, 'list_extract(preds, n)')} AS p`;
  const kept = 'payload_row, request_id, client_request_id, timestamp_ms, status_code, "date", model_name, model_version, n_rows';
  const struct = literal(`[{${names.map((n) => `${JSON.stringify(n)}:"JSON"`).join(',')}}]`);
  const first = literal(j.path(names[0] as string));
  return `${sourceCtes(j, source, sql.formats, rowId)}, req AS (
  SELECT *, CASE
      WHEN request_format = 'csv' THEN CASE WHEN rs IS NOT NULL AND strpos(request, '"') = 0 AND strpos(request, chr(13)) = 0
        AND regexp_full_match(request, ${literal(csvPattern(K))}) AND len(csv_header) = ${K} AND list_sort(csv_header) = ${sorted} THEN 'csv' END
      WHEN rq IS NULL OR rs IS NULL OR body IS NULL THEN NULL
      WHEN request_format = 'dataframe_split' THEN CASE WHEN json_type(body) = 'OBJECT' AND ${splitRows}
        AND ${only('body', '$.columns[*]', 'VARCHAR')} AND json_array_length(body, '$.columns') = ${K}
        AND list_sort(CAST(json_extract(body, '$.columns') AS VARCHAR[])) = ${sorted} THEN 'split' END
      WHEN request_format = 'inputs' AND json_type(body) = 'OBJECT' THEN CASE WHEN list_sort(json_keys(body)) = ${sorted}
        AND ${names.map((n) => `json_type(body, ${literal(j.path(n))}) = 'ARRAY' AND json_array_length(body, ${literal(j.path(n))}) = json_array_length(body, ${first})`).join(' AND ')} THEN 'columns' END
      WHEN json_type(body) <> 'ARRAY' OR json_array_length(body) = 0 THEN NULL
      WHEN request_format = 'dataframe_records' OR json_type(body, '$[0]') = 'OBJECT' THEN CASE WHEN ${recordsOk} THEN 'records' END
      WHEN ${tensorOk} THEN 'tensor'
    END AS shape,
    json_transform(CASE WHEN starts_with(rs, '[') THEN rs WHEN starts_with(rs, '{') THEN json_extract(rs, '$.predictions') END, '["JSON"]') AS preds
  FROM (SELECT *, CASE WHEN request_format = 'csv' THEN string_split(split_part(request, chr(10), 1), ',') END AS csv_header FROM bodies)
), sized AS (
  SELECT *, CASE shape WHEN 'split' THEN json_array_length(body, '$.data') WHEN 'columns' THEN json_array_length(body, ${first})
      WHEN 'csv' THEN len(string_split(rtrim(request, chr(10)), chr(10))) - 1 ELSE json_array_length(body) END AS n_rows,
    ${names.map((n, k) => `list_position(header, ${literal(n)}) AS pos${k + 1}`).join(', ')}
  -- The header read once: only split and CSV requests order their columns as they like.
  FROM (SELECT *, CASE shape WHEN 'csv' THEN csv_header WHEN 'split' THEN CAST(json_extract(body, '$.columns') AS VARCHAR[]) END AS header FROM req)
), requests AS (
  SELECT *, COALESCE(${checks.join(' AND ')}, false) AS clean FROM sized
), clean_rows AS (
  -- Unnested in the select list: a lateral join would cost more than the unpack.
  SELECT ${kept}, n, ${values((k) => `list_extract(cells, pos${k + 1})`)}, ${prediction} FROM (
    SELECT *, unnest(split_rows) AS cells, generate_subscripts(split_rows, 1) AS n FROM (
      SELECT *, json_transform(json_extract(body, '$.data'), '[["JSON"]]') AS split_rows FROM requests WHERE clean AND shape = 'split'))
  UNION ALL
  SELECT ${kept}, n, ${values((k) => `list_extract(cells, ${k + 1})`)}, ${prediction} FROM (
    SELECT *, unnest(tensor_rows) AS cells, generate_subscripts(tensor_rows, 1) AS n FROM (
      SELECT *, json_transform(body, '[["JSON"]]') AS tensor_rows FROM requests WHERE clean AND shape = 'tensor'))
  UNION ALL
  SELECT ${kept}, n, ${values((k) => `rec.${JSON.stringify(names[k])}`)}, ${prediction} FROM (
    SELECT *, unnest(record_rows) AS rec, generate_subscripts(record_rows, 1) AS n FROM (
      SELECT *, json_transform(body, ${struct}) AS record_rows FROM requests WHERE clean AND shape = 'records'))
  UNION ALL
  SELECT ${kept}, n, ${values((k) => `c${k + 1}`)}, ${prediction} FROM (
    SELECT *, ${names.map((n, k) => `unnest(json_transform(json_extract(body, ${literal(j.path(n))}), '["JSON"]')) AS c${k + 1}`).join(', ')},
      generate_subscripts(json_transform(json_extract(body, ${first}), '["JSON"]'), 1) AS n
    FROM requests WHERE clean AND shape = 'columns')
  UNION ALL
  -- CSV cells are numbers (the pattern says so), cast straight to the declared doubles.
  SELECT ${kept}, n, ${names.map((_, k) => `TRY_CAST(list_extract(string_split(line, ','), pos${k + 1}) AS DOUBLE) + 0.0 AS ${v(k)}`).join(', ')}, ${prediction} FROM (
    SELECT *, unnest(csv_rows) AS line, generate_subscripts(csv_rows, 1) AS n FROM (
      SELECT *, string_split(rtrim(request, chr(10)), chr(10))[2:] AS csv_rows FROM requests WHERE clean AND shape = 'csv'))
)`;
}

/** A JSON value already judged of its declared type, as that type (DuckDB). */
function valueOf(type: ColumnType, v: string): string {
  switch (type) {
    case 'DOUBLE':
      // A non-finite number was left to the JavaScript path; -0 is written 0 there.
      return `TRY_CAST(${v} AS DOUBLE) + 0.0`;
    case 'BIGINT':
      return `TRY_CAST(${v} AS BIGINT)`;
    case 'BOOLEAN':
      return `TRY_CAST(${v} AS BOOLEAN)`;
    case 'VARCHAR':
      return `json_extract_string(${v}, '$')`;
  }
}

/**
 * A CSV body the engine reads exactly as the JavaScript path does: a header line, then lines
 * of `columns` numbers that JavaScript's Number reads the same (no sign-only, hex, infinity or
 * exponent past two digits), no empty line but a last newline.
 */
function csvPattern(columns: number): string {
  const number = '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,2})?';
  const row = `${number}(,${number}){${columns - 1}}`;
  return `[^\\n]*(\\n${row})*\\n?`;
}

/** A JSON value of each declared type (or null), as DuckDB writes it. */
const VALUE_PATTERN: Readonly<Record<ColumnType, string>> = {
  DOUBLE: '(-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][+-]?[0-9]+)?|null)',
  // The range (2^53) is checked on the request's text.
  BIGINT: '(-?(0|[1-9][0-9]*)|null)',
  BOOLEAN: '(true|false|null)',
  VARCHAR: '("([^"\\\\]|\\\\.)*"|null)',
};

/**
 * Patterns of a whole body when every feature has the same type: rows of exactly as many values
 * as features (a split's data, a tensor), and records of exactly the declared keys (each once,
 * as the proxy refuses duplicate keys), every value of the type.
 */
function shapePatterns(names: readonly string[], type: ColumnType): { rows: string; records: string } {
  const value = VALUE_PATTERN[type];
  const more = `{${names.length - 1}}`;
  const row = `\\[${value}(,${value})${more}\\]`;
  const key = `"(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})"`;
  const record = `\\{${key}:${value}(,${key}:${value})${more}\\}`;
  return { rows: `\\[(${row}(,${row})*)?\\]`, records: `\\[${record}(,${record})*\\]` };
}
