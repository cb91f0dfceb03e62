/**
 * Athena (Trino) functions users type, defined as DuckDB macros so the same SQL runs on the
 * local tables. Where DuckDB has a function of the same name with other semantics
 * (`json_extract` paths, `element_at` on maps, `cardinality` on arrays) the macro wins.
 */

// Trino JSONPath accepts `$["key"]`; DuckDB wants `$."key"`.
const PATH = `regexp_replace(p, '\\["((?:[^"\\\\]|\\\\.)*)"\\]', '."\\1"', 'g')`;

/** `CREATE MACRO` statements, in dependency order. */
export const ATHENA_MACROS: readonly string[] = [
  `CREATE OR REPLACE MACRO json_parse(s) AS CAST(s AS JSON)`,
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
  `CREATE OR REPLACE MACRO from_unixtime(s) AS make_timestamp(CAST(round(s * 1000000) AS BIGINT))`,
  `CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(CAST(t AS TIMESTAMP))`,
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMP)`,
  // Format strings are translated from Trino's letters by the dialect layer (sql-dialect.ts).
  `CREATE OR REPLACE MACRO date_format(t, f) AS strftime(CAST(t AS TIMESTAMP), f)`,
  `CREATE OR REPLACE MACRO date_parse(s, f) AS strptime(s, f)`,
  `CREATE OR REPLACE MACRO approx_percentile(x, p) AS approx_quantile(x, p)`,
  `CREATE OR REPLACE MACRO approx_distinct(x) AS approx_count_distinct(x)`,
  `CREATE OR REPLACE MACRO element_at(c, k) AS c[k]`,
  `CREATE OR REPLACE MACRO cardinality(c) AS
     CASE WHEN json_type(to_json(c)) = 'ARRAY' THEN json_array_length(to_json(c)) ELSE len(json_keys(to_json(c))) END`,
  `CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
];
