/**
 * Athena (Trino) functions as DuckDB macros: what the translator of `core/athena-sql` writes
 * calls to, the JSON and epoch functions by their Athena names, the rest prefixed `athena_`
 * so no DuckDB name is shadowed. The user's engine and the refresh's warehouse define them.
 */

import { type DuckDBConnection, DuckDBScalarFunction, VARCHAR } from '@duckdb/node-api';
import { canonicalJson } from '../../core/json-text.js';

// Trino JSONPath accepts `$["key"]`; DuckDB wants `$."key"`.
const PATH = `regexp_replace(p, '\\["((?:[^"\\\\]|\\\\.)*)"\\]', '."\\1"', 'g')`;

/**
 * Registers the functions written in JavaScript that the macros call, on `connection` (a
 * function is the connection's: the warehouse's and each query engine's register their own).
 */
export function registerAthenaFunctions(connection: DuckDBConnection): void {
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'athena_json_canonical',
      mainFunction: (info, input, output) => {
        const texts = input.getColumnVector(0);
        for (let row = 0; row < input.rowCount; row++) {
          const text = texts.getItem(row) as string | null;
          try {
            output.setItem(row, text === null ? null : canonicalJson(text));
          } catch {
            info.setError(`Cannot convert value to JSON: '${String(text).slice(0, 100)}'`);
            return;
          }
        }
        output.flush();
      },
      returnType: VARCHAR,
      parameterTypes: [VARCHAR],
    }),
  );
}

/** JSON and epoch functions, by their Athena names (the translator keeps these names). */
const JSON_MACROS: readonly string[] = [
  // Trino's json_parse writes the value again, keys sorted (athena_json_canonical, registered from JavaScript).
  `CREATE OR REPLACE MACRO json_parse(s) AS CAST(athena_json_canonical(CAST(s AS VARCHAR)) AS JSON)`,
  `CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)`,
  `CREATE OR REPLACE MACRO json_extract(j, p) AS json_extract_path(TRY_CAST(j AS JSON), ${PATH})`,
  // Trino returns NULL when the value at the path is an object or an array, and for text that is not JSON.
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS
     CASE WHEN json_type(json_extract_path(TRY_CAST(j AS JSON), ${PATH})) IN ('OBJECT', 'ARRAY') THEN NULL
          ELSE json_extract_path_text(TRY_CAST(j AS JSON), ${PATH}) END`,
  `CREATE OR REPLACE MACRO json_size(j, p) AS
     CASE json_type(json_extract_path(TRY_CAST(j AS JSON), ${PATH}))
       WHEN 'ARRAY' THEN json_array_length(json_extract_path(TRY_CAST(j AS JSON), ${PATH}))
       WHEN 'OBJECT' THEN len(json_keys(json_extract_path(TRY_CAST(j AS JSON), ${PATH})))
       ELSE 0 END`,
  // A timestamp with time zone (UTC), as Trino's.
  `CREATE OR REPLACE MACRO from_unixtime(s) AS CAST(make_timestamp(CAST(round(CAST(s AS DOUBLE) * 1000000) AS BIGINT)) AS TIMESTAMPTZ)`,
  `CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(CAST(t AS TIMESTAMP))`,
];

/**
 * Macros that fail as Trino fails, each with an `_or_null` twin for inside `try(…)` and
 * `TRY_CAST` (DuckDB's TRY takes no `error()`).
 */
const FAILING: readonly [name: string, params: string, guard: string, message: string, value: string][] = [
  // Trino: integer division truncates and fails on zero.
  ['athena_divide', 'a, b', 'b = 0', `'Division by zero'`, 'a / b'],
  ['athena_mod', 'a, b', 'b = 0', `'Division by zero'`, 'a % b'],
  // A decimal quotient at scale s, rounded half up (the nudge undoes the double's binary error).
  ['athena_decimal_divide', 'a, b, s', 'b = 0', `'Division by zero'`, 'round(CAST(a AS DOUBLE) / CAST(b AS DOUBLE) + sign(CAST(a AS DOUBLE) / CAST(b AS DOUBLE)) * 1e-12, s)'],
  // Trino fails on a missing key and on an index outside the array.
  ['athena_map_get', 'm, k', 'm IS NOT NULL AND k IS NOT NULL AND NOT list_contains(map_keys(m), k)', `'Key not present in map: ' || CAST(k AS VARCHAR)`, 'm[k]'],
  [
    'athena_array_get',
    'a, i',
    'a IS NOT NULL AND i IS NOT NULL AND NOT (i BETWEEN 1 AND len(a))',
    `CASE WHEN i = 0 THEN 'SQL array indices start at 1' ELSE 'Array subscript must be less than or equal to array length: ' || CAST(i AS VARCHAR) || ' > ' || CAST(len(a) AS VARCHAR) END`,
    'a[i]',
  ],
  // A JSON scalar casts to its text; Trino refuses arrays and objects.
  ['athena_json_to_varchar', 'j', `json_type(j) IN ('OBJECT', 'ARRAY')`, `'Cannot cast JSON ' || lower(json_type(j)) || ' to VARCHAR (Athena refuses it too; use json_format)'`, `json_extract_string(j, '$')`],
  // Only whole numbers are read from text into an integer type (DuckDB would round '1.5').
  ['athena_text_to_integer', 's, t', `s IS NOT NULL AND NOT regexp_matches(trim(s), '^[+-]?[0-9]+$')`, `'Cannot cast ''' || s || ''' to ' || t`, 'trim(s)'],
];

/** The macros the translated SQL calls. */
export const ATHENA_MACROS: readonly string[] = [
  ...JSON_MACROS,
  ...FAILING.flatMap(([name, params, guard, message, value]) => [
    `CREATE OR REPLACE MACRO ${name}(${params}) AS CASE WHEN ${guard} THEN error(${message}) ELSE ${value} END`,
    `CREATE OR REPLACE MACRO ${name}_or_null(${params}) AS CASE WHEN ${guard} THEN NULL ELSE ${value} END`,
  ]),
  // A double divided by zero is infinite, or NaN (Trino), where DuckDB answers NULL.
  `CREATE OR REPLACE MACRO athena_double_divide(a, b) AS
     CASE WHEN b <> 0 THEN CAST(a AS DOUBLE) / b WHEN a > 0 THEN CAST('Infinity' AS DOUBLE) WHEN a < 0 THEN CAST('-Infinity' AS DOUBLE) ELSE CAST('NaN' AS DOUBLE) END`,
  `CREATE OR REPLACE MACRO athena_subscript(a, i) AS a[i]`,
  // element_at: NULL outside the array, negative from its end, but 0 fails.
  `CREATE OR REPLACE MACRO athena_element_at(a, i) AS CASE WHEN i = 0 THEN error('SQL array indices start at 1') ELSE a[i] END`,
  `CREATE OR REPLACE MACRO athena_typeof(x) AS
     regexp_replace(regexp_replace(regexp_replace(lower(typeof(x)), '^(.*)\\[\\]$', 'array(\\1)'), '^timestamp with time zone$', 'timestamp(3) with time zone'), '^timestamp$', 'timestamp(3)')`,
  // Trino answers NULL for a part past the last.
  `CREATE OR REPLACE MACRO athena_split_part(s, d, i) AS CASE WHEN i > len(string_split(s, d)) THEN NULL ELSE split_part(s, d, i) END`,
  `CREATE OR REPLACE MACRO athena_cardinality(c) AS
     CASE WHEN json_type(to_json(c)) = 'ARRAY' THEN json_array_length(to_json(c)) ELSE len(json_keys(to_json(c))) END`,
  // slice(a, start, length): 1-based, a negative start counts from the end.
  `CREATE OR REPLACE MACRO athena_slice(a, s, n) AS
     CASE WHEN s = 0 THEN error('SQL array indices start at 1') WHEN s > 0 THEN a[s : s + n - 1] ELSE a[len(a) + s + 1 : len(a) + s + n] END`,
  // NULL when an element is NULL (Trino), where DuckDB's list_max skips it.
  `CREATE OR REPLACE MACRO athena_array_max(a) AS CASE WHEN list_contains(list_transform(a, x -> x IS NULL), true) THEN NULL ELSE list_max(a) END`,
  `CREATE OR REPLACE MACRO athena_array_min(a) AS CASE WHEN list_contains(list_transform(a, x -> x IS NULL), true) THEN NULL ELSE list_min(a) END`,
  // First occurrences, in order (DuckDB's list_distinct neither keeps order nor NULL).
  `CREATE OR REPLACE MACRO athena_array_distinct(a) AS list_filter(a, (x, i) -> list_position(list_transform(a, y -> y IS NOT DISTINCT FROM x), true) = i)`,
  // A double's text as Trino writes it, in scientific notation from its shortest digits (37.7 is 3.77E1).
  `CREATE OR REPLACE MACRO athena_sci(s, e) AS
     substr(s, 1, 1) || '.' || coalesce(nullif(substr(s, 2), ''), '0') || 'E' || CAST(e AS VARCHAR)`,
  `CREATE OR REPLACE MACRO athena_double_text(t) AS
     CASE WHEN t LIKE '%e%' THEN athena_sci(rtrim(replace(split_part(t, 'e', 1), '.', ''), '0'), CAST(split_part(t, 'e', 2) AS INTEGER) + 0)
          WHEN rtrim(ltrim(replace(t, '.', ''), '0'), '0') = '' THEN '0.0E0'
          ELSE athena_sci(rtrim(ltrim(replace(t, '.', ''), '0'), '0'),
                          length(split_part(t, '.', 1)) - 1 - (length(replace(t, '.', '')) - length(ltrim(replace(t, '.', ''), '0')))) END`,
  `CREATE OR REPLACE MACRO athena_double_to_varchar(x) AS
     CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN' WHEN isinf(x) THEN CASE WHEN x > 0 THEN 'Infinity' ELSE '-Infinity' END
          ELSE CASE WHEN x < 0 THEN '-' ELSE '' END || athena_double_text(CAST(abs(x) AS VARCHAR)) END`,
  `CREATE OR REPLACE MACRO athena_from_base(s, radix) AS
     list_reduce(list_transform(string_split(lower(s), ''), c -> CAST(strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 AS BIGINT)), (acc, d) -> acc * radix + d, CAST(0 AS BIGINT))`,
  // A JSON array as the object of a row's fields, by position; other JSON as it is.
  `CREATE OR REPLACE MACRO athena_json_row(j, names) AS
     CASE WHEN json_type(j) = 'ARRAY' THEN CAST(to_json(map_from_entries(list_transform(range(least(len(names), json_array_length(j))::BIGINT), i -> {'key': names[i + 1], 'value': json_extract_path(j, '$[' || i || ']')}))) AS JSON) ELSE j END`,
  // substr from position 0 is '' in Trino; a negative position counts from the end in both.
  `CREATE OR REPLACE MACRO athena_substr(s, a, n) AS CASE WHEN a = 0 THEN '' WHEN n IS NULL THEN substr(s, a) ELSE substr(s, a, n) END`,
  // width_bucket(x, low, high, n): 0 below, n + 1 at or above high.
  `CREATE OR REPLACE MACRO athena_width_bucket(x, lo, hi, n) AS
     CASE WHEN n <= 0 OR lo = hi THEN error('width_bucket: the bucket count must be positive and the bounds differ') WHEN x < lo THEN 0 WHEN x >= hi THEN n + 1
          ELSE CAST(floor((CAST(x AS DOUBLE) - lo) / (hi - lo) * n) AS BIGINT) + 1 END`,
];
