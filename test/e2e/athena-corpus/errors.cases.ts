/**
 * Queries Athena refuses, and the error each must give. Trino does not coerce between
 * character and numeric or date types, fails on out-of-range subscripts and missing map keys,
 * and names what it cannot resolve. Functions Athena has but the local engine lacks must fail
 * naming the function and saying Athena supports it; an unknown function must be named.
 */
import type { Case } from './fixture.js';

export const cases: readonly Case[] = [
  {
    name: 'errors: the unpacked DATE column compared with a string',
    sql: `SELECT count(*) AS n FROM iris_unpacked WHERE "date" = '2026-11-22'`,
    rule: 'Athena: "Cannot apply operator: date = varchar(10)"; the unpacked table\'s date is a DATE, and Trino does not coerce varchar to date (compare with DATE \'2026-11-22\')',
    expected: { error: /date.*varchar|varchar.*date|cannot apply operator/i },
  },
  {
    name: 'errors: an INT column compared with a string',
    sql: `SELECT count(*) AS n FROM iris_payload WHERE status_code = '200'`,
    rule: 'conversion.md: Trino will not convert between character and numeric types ("Cannot apply operator: integer = varchar(3)")',
    expected: { error: /integer.*varchar|varchar.*integer|cannot apply operator/i },
  },
  {
    name: 'errors: a varchar label compared with a bigint prediction',
    sql: `SELECT count(*) AS n FROM iris_unpacked u JOIN iris_labels l ON l.client_request_id = u.client_request_id AND l.row_index = u.row_index WHERE l.label = u.prediction`,
    rule: 'labels are varchar, predictions bigint: no implicit coercion ("Cannot apply operator: varchar = bigint")',
    expected: { error: /varchar.*bigint|bigint.*varchar|cannot apply operator/i },
  },
  {
    name: 'errors: a json_extract_scalar result compared with a number',
    sql: `SELECT count(*) AS n FROM iris_payload WHERE json_extract_scalar(response, '$.predictions[0]') = 0`,
    rule: 'json_extract_scalar returns varchar; varchar = integer cannot be applied',
    expected: { error: /varchar.*integer|integer.*varchar|cannot apply operator/i },
  },
  {
    name: 'errors: || with a number',
    sql: `SELECT 'n=' || 5 AS v`,
    rule: '|| is concat over varchar (or arrays); concat(varchar, integer) has no signature',
    expected: { error: /concat|\|\||unexpected parameters|cannot apply/i },
  },
  {
    name: 'errors: an array subscript past the end',
    sql: `SELECT ARRAY[1, 2, 3][4] AS v`,
    rule: 'array.md: the [] operator fails beyond the array length ("Array subscript must be less than or equal to array length: 4 > 3"); element_at returns NULL instead',
    expected: { error: /subscript|array length|out of (bounds|range)/i },
  },
  {
    name: 'errors: element_at with index 0',
    sql: `SELECT element_at(ARRAY[1, 2, 3], 0) AS v`,
    rule: 'arrays are 1-based: "SQL array indices start at 1"',
    expected: { error: /indices start at 1|index.*0|start at 1/i },
  },
  {
    name: 'errors: a missing key with the map subscript',
    sql: `SELECT request_metadata['no_such_key'] AS v FROM iris_payload`,
    rule: 'map [] fails on a missing key ("Key not present in map: no_such_key"); element_at returns NULL',
    expected: { error: /key not present in map|no_such_key/i },
  },
  {
    name: 'errors: CAST of text that is not a number',
    sql: `SELECT CAST('abc' AS INTEGER) AS v`,
    rule: 'an invalid cast fails ("Cannot cast \'abc\' to INT"); try_cast returns NULL',
    expected: { error: /cannot cast|abc/i },
  },
  {
    name: 'errors: CAST of a JSON array to VARCHAR',
    sql: `SELECT CAST(json_extract(response, '$.predictions') AS VARCHAR) AS v FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'json.md: JSON object and JSON array cannot be cast to VARCHAR (use json_format)',
    expected: { error: /cannot cast|varchar/i },
  },
  {
    name: 'errors: json_parse of text that is not JSON',
    sql: `SELECT json_parse('not json') AS v`,
    rule: 'json.md: json_parse(\'not_json\') is an error ("Cannot convert \'not json\' to JSON")',
    expected: { error: /cannot convert|not json|json/i },
  },
  {
    name: 'errors: integer division by zero',
    sql: `SELECT count(*) / 0 AS v FROM iris_payload`,
    rule: 'integer division by zero fails ("Division by zero"); doubles give Infinity',
    expected: { error: /division by zero/i },
  },
  {
    name: 'errors: integer overflow',
    sql: `SELECT 2147483647 + 1 AS v`,
    rule: 'integer arithmetic overflow fails ("integer addition overflow: 2147483647 + 1")',
    expected: { error: /overflow|out of range/i },
  },
  {
    name: 'errors: a value out of a cast\'s range',
    sql: `SELECT CAST(300 AS TINYINT) AS v`,
    rule: 'casting to a smaller integer type fails when out of range ("Out of range for tinyint: 300")',
    expected: { error: /out of range|overflow|tinyint/i },
  },
  {
    name: 'errors: date_parse of text not in the format',
    sql: `SELECT date_parse('2026-11-22', '%Y/%m/%d') AS v`,
    rule: 'date_parse fails when the text does not match ("Invalid format: ... is malformed")',
    expected: { error: /invalid format|malformed|could not parse|does not match/i },
  },
  {
    name: 'errors: an unknown column is named',
    sql: `SELECT no_such_column FROM iris_payload`,
    rule: 'analysis error "Column \'no_such_column\' cannot be resolved"',
    expected: { error: /no_such_column/ },
  },
  {
    name: 'errors: an unknown table is named',
    sql: `SELECT count(*) FROM no_such_table`,
    rule: 'analysis error "Table \'awsdatacatalog.inference_tables_local.no_such_table\' does not exist"',
    expected: { error: /no_such_table/ },
  },
  {
    name: 'errors: an ambiguous column in a join',
    sql: `SELECT request_id FROM iris_payload p JOIN iris_unpacked u ON u.request_id = p.request_id`,
    rule: 'analysis error "Column \'request_id\' is ambiguous"',
    expected: { error: /ambiguous/i },
  },
  {
    name: 'errors: a column neither grouped nor aggregated',
    sql: `SELECT requester, count(*) AS n FROM iris_payload`,
    rule: '"\'requester\' must be an aggregate expression or appear in GROUP BY clause"',
    expected: { error: /group by|aggregate/i },
  },
  {
    name: 'errors: a window function in WHERE',
    sql: `SELECT request_id FROM iris_payload WHERE row_number() OVER (ORDER BY request_time) = 1`,
    rule: '"WHERE clause cannot contain aggregations, window functions or grouping operations"',
    expected: { error: /window|where/i },
  },
  {
    name: 'errors: DESCRIBE TABLE is not Athena syntax',
    sql: `DESCRIBE TABLE iris_payload`,
    rule: 'Athena DESCRIBE: "The syntax for this statement is DESCRIBE table_name, not DESCRIBE TABLE table_name" (SemanticException: Table not found table)',
    expected: { error: /table not found|not found|does not exist|syntax|mismatched|not valid/i },
  },
  {
    name: 'errors: bing_tile, which Athena has, is named as supported by Athena',
    sql: `SELECT bing_tile_quadkey(bing_tile(3, 5, 3)) AS quadkey`,
    rule: 'Athena geospatial functions (Bing tile functions) exist in Athena; the local engine has no geospatial type and must say so naming the function',
    expected: { error: /bing_tile[\s\S]*athena|athena[\s\S]*bing_tile/i },
  },
  {
    name: 'errors: ST_Point, which Athena has, is named as supported by Athena',
    sql: `SELECT ST_X(ST_Point(1.5, 2.5)) AS x`,
    rule: 'Athena engine v3 geospatial functions are Trino\'s (ST_Point, ST_X); unsupported locally, named with Athena',
    expected: { error: /st_(point|x)[\s\S]*athena|athena[\s\S]*st_(point|x)/i },
  },
  {
    name: 'errors: geometry_from_hadoop_shape, which Athena has, is named as supported by Athena',
    sql: `SELECT ST_AsText(geometry_from_hadoop_shape(from_hex('0000000001'))) AS wkt`,
    rule: 'Trino geospatial function geometry_from_hadoop_shape (Athena engine v3 uses Trino\'s geospatial functions); unsupported locally, named with Athena',
    expected: { error: /(geometry_from_hadoop_shape|st_astext)[\s\S]*athena|athena[\s\S]*(geometry_from_hadoop_shape|st_astext)/i },
  },
  {
    name: 'errors: a function neither engine has is named',
    sql: `SELECT no_such_function(1) AS v`,
    rule: 'Trino: "Function \'no_such_function\' not registered"',
    expected: { error: /no_such_function/ },
  },
];
