/**
 * Finer points of Trino's semantics that a first translation got wrong: types carried through
 * `*` and VALUES, rounding into integers, positions from 0, names Trino does not resolve, and
 * implicit casts it refuses. Each expectation follows the rule cited; values from `fixture.ts`.
 */
import type { Case } from './fixture.js';

export const cases: readonly Case[] = [
  {
    name: 'semantics: types are kept through SELECT * in a subquery and a WITH',
    sql: `WITH t AS (SELECT * FROM iris_unpacked) SELECT CAST(p.sepal_length AS VARCHAR) AS s, date_add('day', 1, p."date") AS next_day FROM (SELECT * FROM t) p WHERE p.request_id = 'r02'`,
    rule: 'a column keeps its type through * : a double casts to varchar in scientific notation (5.9E0), date_add on a DATE is a DATE',
    expected: [{ s: '5.9E0', next_day: '2026-11-22' }],
  },
  {
    name: 'semantics: a map subscript through * still fails on a missing key',
    sql: `WITH t AS (SELECT * FROM iris_payload) SELECT request_metadata['nope'] AS v FROM t`,
    rule: 'map subscript of a missing key fails (element_at answers NULL)',
    expected: { error: /Key not present in map/ },
  },
  {
    name: 'semantics: VALUES columns keep their types',
    sql: `SELECT x / 0 AS v FROM (VALUES 37.7e0) AS t(x)`,
    rule: 'a double divided by zero is Infinity',
    expected: [{ v: 'Infinity' }],
  },
  {
    name: 'semantics: a double rounds half away from zero into an integer',
    sql: `SELECT CAST(2.5e0 AS BIGINT) AS a, CAST(0.5e0 AS BIGINT) AS b, CAST(-2.5e0 AS INTEGER) AS c, CAST(2.5 AS INTEGER) AS d`,
    rule: 'Trino casts double and decimal to integer types rounding HALF_UP',
    expected: [{ a: 3, b: 1, c: -3, d: 3 }],
  },
  {
    name: 'semantics: substr from position 0 is empty',
    sql: `SELECT substr('hello', 0, 2) AS a, substr('hello', 0) AS b, substring('hello' FROM 2 FOR 3) AS c, substr('hello', -3) AS d`,
    rule: "Trino's substring returns '' for start 0; a negative start counts from the end",
    expected: [{ a: '', b: '', c: 'ell', d: 'llo' }],
  },
  {
    name: 'semantics: a cast to DECIMAL(p,s) keeps its scale through division and avg',
    sql: `SELECT CAST(10 AS DECIMAL(10,2)) / 3 AS q, typeof(CAST(1 AS DECIMAL(10,2))) AS t`,
    rule: 'decimal division keeps the larger scale, rounded half up: 10.00 / 3 = 3.33',
    expected: [{ q: 3.33, t: 'decimal(10,2)' }],
  },
  {
    name: 'semantics: all_match and any_match with a NULL and no deciding element',
    sql: `SELECT all_match(ARRAY[true, NULL], x -> x) AS a, any_match(ARRAY[false, NULL], x -> x) AS b, any_match(ARRAY[NULL, true], x -> x) AS c`,
    rule: 'array functions: NULL when no element decides and a predicate is NULL',
    expected: [{ a: null, b: null, c: true }],
  },
  {
    name: 'semantics: to_base writes lower-case digits; listagg within group',
    sql: `SELECT to_base(255, 16) AS h, (SELECT listagg(requester, ',') WITHIN GROUP (ORDER BY requester DESC) FROM iris_payload WHERE status_code >= 500) AS l`,
    rule: "to_base uses Java's Long.toString (lower case); listagg(x, sep) WITHIN GROUP (ORDER BY …)",
    expected: [{ h: 'ff', l: 'local:bob,local:alice' }],
  },
  {
    name: 'semantics: a SELECT alias is not a column in WHERE',
    sql: `SELECT status_code AS s FROM iris_payload WHERE s = 200`,
    rule: "Trino resolves WHERE, GROUP BY and HAVING against the FROM clause only: Column 's' cannot be resolved",
    expected: { error: /Column 's' cannot be resolved/ },
  },
  {
    name: 'semantics: a SELECT alias is not a column in GROUP BY',
    sql: `SELECT date_trunc('hour', request_time) AS h, count(*) AS n FROM iris_payload GROUP BY h`,
    rule: 'GROUP BY takes expressions or positions, not output aliases (trinodb/trino#8582)',
    expected: { error: /Column 'h' cannot be resolved/ },
  },
  {
    name: 'semantics: a table alias is not a column',
    sql: `SELECT x FROM iris_payload x`,
    rule: 'a relation name does not resolve as a column',
    expected: { error: /Column 'x' cannot be resolved/ },
  },
  {
    name: 'semantics: two result columns of one name are refused locally',
    sql: `SELECT p.request_id, u.request_id FROM iris_payload p JOIN iris_unpacked u ON p.request_id = u.request_id`,
    rule: 'Athena shows both columns; the local results are keyed by name, so the query is refused with the fix rather than show one value twice',
    expected: { error: /two columns named request_id/ },
  },
  {
    name: 'semantics: text and a number are not concatenated by concat either',
    sql: `SELECT concat('n=', 5) AS v`,
    rule: 'concat takes varchar (or arrays): no implicit cast from integer',
    expected: { error: /concat takes text or arrays/ },
  },
  {
    name: 'semantics: a simple CASE compares its operand without casting text',
    sql: `SELECT CASE status_code WHEN '200' THEN 'ok' END AS v FROM iris_payload`,
    rule: 'CASE x WHEN v compares x = v: integer = varchar fails',
    expected: { error: /Cannot apply operator: integer = varchar/ },
  },
  {
    name: 'semantics: sum of a boolean is refused',
    sql: `SELECT sum(status_code >= 400) AS v FROM iris_payload`,
    rule: 'sum has no boolean signature in Trino',
    expected: { error: /sum takes numbers, not a boolean/ },
  },
  {
    name: 'semantics: an array is not cast to varchar',
    sql: `SELECT CAST(logging_error_codes AS VARCHAR) AS v FROM iris_payload`,
    rule: 'Cannot cast array(varchar) to varchar (trinodb/trino#6347)',
    expected: { error: /Cannot cast array\(varchar\) to varchar/ },
  },
  {
    name: 'semantics: date_format letters Trino refuses',
    sql: `SELECT date_format(request_time, '%u') AS v FROM iris_payload`,
    rule: 'date_format: %u not supported in date format string; %x is the week-year of %v',
    expected: { error: /%u not supported in date format string/ },
  },
  {
    name: 'semantics: from_iso8601_timestamp keeps the offset its text names',
    sql: `SELECT hour(from_iso8601_timestamp('2026-11-22T12:00:00-05:00')) AS h, to_unixtime(from_iso8601_timestamp('2026-11-22T12:00:00-05:00')) AS epoch, CAST(from_iso8601_timestamp('2026-11-22T12:00:00+05:30') AS VARCHAR) AS v, hour(TIMESTAMP '2026-11-22 12:00:00' AT TIME ZONE '-05:00') AS at_offset`,
    rule: 'a timestamp with time zone parsed from ISO 8601 keeps its offset: hour 12 there, the instant 17:00 UTC; a fixed offset is a zone',
    expected: [{ h: 12, epoch: 1795366800, v: '2026-11-22 12:00:00.000 +05:30', at_offset: 7 }],
  },
  {
    name: 'semantics: fields of ISO 8601 values from a column, whose offsets vary, are refused locally',
    sql: `SELECT hour(from_iso8601_timestamp(json_extract_scalar(request, '$.sent_at'))) AS h FROM iris_payload`,
    rule: 'Athena reads each value in its own offset; the local engine keeps instants, so it refuses rather than read them in UTC (AT TIME ZONE first works)',
    expected: { error: /hour of a from_iso8601_timestamp value reads it in the offset of its own text/ },
  },
  {
    name: 'semantics: a quoted "$path" inside a string is text',
    sql: `SELECT count(*) AS n FROM iris_unpacked WHERE model_id LIKE '%$path%'`,
    rule: 'a string literal is not a column',
    expected: [{ n: 0 }],
  },
];
