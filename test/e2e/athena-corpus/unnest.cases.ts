/**
 * UNNEST, arrays, maps, rows and lambdas (Trino functions/array.md, map.md, lambda.md, the
 * UNNEST clause of SELECT). Arrays are 1-based; maps compare as objects (order-free).
 */
import type { Case } from './fixture.js';

const R01_METADATA = { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: '2', served_entity_name: 'iris-classifier-2' };

export const cases: readonly Case[] = [
  {
    name: 'unnest: CROSS JOIN UNNEST of the metadata map into key and value',
    sql: `SELECT t.k, t.v FROM iris_payload CROSS JOIN UNNEST(request_metadata) AS t(k, v) WHERE request_id = 'r01'`,
    rule: 'UNNEST of a MAP expands into two columns, one row per entry',
    expected: Object.entries(R01_METADATA).map(([k, v]) => ({ k, v })),
  },
  {
    name: 'unnest: map entries of every request',
    sql: `SELECT count(*) AS entries, count(DISTINCT t.k) AS keys FROM iris_payload CROSS JOIN UNNEST(request_metadata) AS t(k, v)`,
    rule: 'every request_metadata holds the same 4 keys: 12 x 4 entries',
    expected: [{ entries: 48, keys: 4 }],
  },
  {
    name: 'unnest: the logging error codes, one row each',
    sql: `SELECT request_id, code FROM iris_payload CROSS JOIN UNNEST(logging_error_codes) AS t(code)`,
    rule: 'UNNEST of an empty array gives no row; r09 has one code, r12 two',
    expected: [
      { request_id: 'r09', code: 'MAX_REQUEST_SIZE_EXCEEDED' },
      { request_id: 'r12', code: 'MAX_RESPONSE_SIZE_EXCEEDED' },
      { request_id: 'r12', code: 'RATE_LIMITED' },
    ],
  },
  {
    name: 'unnest: LEFT JOIN UNNEST keeps requests without codes',
    sql: `SELECT count(*) AS n, count(code) AS codes FROM iris_payload LEFT JOIN UNNEST(logging_error_codes) AS t(code) ON true`,
    rule: 'LEFT JOIN UNNEST(...) ON true keeps a row (code NULL) for an empty array: 10 + 1 + 2',
    expected: [{ n: 13, codes: 3 }],
  },
  {
    name: 'unnest: two arrays side by side, the shorter padded with NULL',
    sql: `SELECT n, s FROM UNNEST(ARRAY[1, 2, 3], ARRAY['a', 'b']) AS t(n, s)`,
    rule: 'UNNEST of several arrays: as many rows as the longest, NULL where an array is shorter',
    expected: [{ n: 1, s: 'a' }, { n: 2, s: 'b' }, { n: 3, s: null }],
  },
  {
    name: 'unnest: WITH ORDINALITY on a literal array',
    sql: `SELECT x, i FROM UNNEST(ARRAY['b', 'a', 'c']) WITH ORDINALITY AS t(x, i)`,
    rule: 'the ordinality column counts from 1 in array order',
    expected: [{ x: 'b', i: 1 }, { x: 'a', i: 2 }, { x: 'c', i: 3 }],
  },
  {
    name: 'lambda: transform',
    sql: `SELECT transform(ARRAY[1, 2, 3], x -> x * 10) AS v`,
    rule: 'transform(array(T), function(T,U))',
    expected: [{ v: [10, 20, 30] }],
  },
  {
    name: 'lambda: transform over a column',
    sql: `SELECT transform(logging_error_codes, c -> lower(c)) AS v FROM iris_payload WHERE request_id = 'r12'`,
    rule: 'transform applies the lambda element by element',
    expected: [{ v: ['max_response_size_exceeded', 'rate_limited'] }],
  },
  {
    name: 'lambda: filter the predictions',
    sql: `SELECT filter(CAST(json_extract(response, '$.predictions') AS ARRAY(BIGINT)), x -> x > 0) AS v FROM iris_payload WHERE request_id = 'r05'`,
    rule: 'filter(array(T), function(T,boolean)) keeps the elements for which it is true',
    expected: [{ v: [2, 1] }],
  },
  {
    name: 'lambda: filter drops NULL results',
    sql: `SELECT filter(ARRAY[5, -6, NULL, 7], x -> x > 0) AS v`,
    rule: 'array.md example: NULL > 0 is NULL, not true',
    expected: [{ v: [5, 7] }],
  },
  {
    name: 'lambda: reduce a sum',
    sql: `SELECT reduce(ARRAY[5, 20, 50], 0, (s, x) -> s + x, s -> s) AS v`,
    rule: 'reduce(array, initialState, inputFunction, outputFunction): array.md example, 75',
    expected: [{ v: 75 }],
  },
  {
    name: 'lambda: reduce with a NULL element is NULL',
    sql: `SELECT reduce(ARRAY[5, 20, NULL, 50], 0, (s, x) -> s + x, s -> s) AS v`,
    rule: 'array.md example: s + NULL is NULL and stays NULL',
    expected: [{ v: null }],
  },
  {
    name: 'lambda: reduce the predictions of a request',
    sql: `SELECT reduce(CAST(json_extract(response, '$.predictions') AS ARRAY(BIGINT)), 0, (s, x) -> s + x, s -> s) AS v FROM iris_payload WHERE request_id = 'r05'`,
    rule: 'reduce over a column: 0 + 2 + 1',
    expected: [{ v: 3 }],
  },
  {
    name: 'lambda: any_match, all_match, none_match',
    sql: `SELECT any_match(ARRAY[1, 2, 3], x -> x > 2) AS any_v, all_match(ARRAY[1, 2, 3], x -> x > 0) AS all_v, none_match(ARRAY[1, 2, 3], x -> x > 5) AS none_v`,
    rule: 'array.md: any_match / all_match / none_match',
    expected: [{ any_v: true, all_v: true, none_v: true }],
  },
  {
    name: 'lambda: zip_with',
    sql: `SELECT zip_with(ARRAY[1, 2], ARRAY[3, 4], (x, y) -> x + y) AS v`,
    rule: 'array.md example: element-wise merge',
    expected: [{ v: [4, 6] }],
  },
  {
    name: 'array: array_join, with a NULL replacement',
    sql: `SELECT array_join(ARRAY['a', 'b', 'c'], '-') AS joined, array_join(ARRAY['a', NULL, 'c'], ',') AS skipped, array_join(ARRAY['a', NULL, 'c'], ',', '?') AS replaced`,
    rule: 'array_join omits NULL elements unless a null_replacement is given',
    expected: [{ joined: 'a-b-c', skipped: 'a,c', replaced: 'a,?,c' }],
  },
  {
    name: 'array: array_join of a column, empty for an empty array',
    sql: `SELECT request_id, array_join(logging_error_codes, ',') AS codes FROM iris_payload WHERE request_id IN ('r01', 'r12')`,
    rule: 'array_join of an empty array is the empty string',
    expected: [{ request_id: 'r01', codes: '' }, { request_id: 'r12', codes: 'MAX_RESPONSE_SIZE_EXCEEDED,RATE_LIMITED' }],
  },
  {
    name: 'array: slice from the start and from the end',
    sql: `SELECT slice(ARRAY[1, 2, 3, 4, 5], 2, 3) AS middle, slice(ARRAY[1, 2, 3, 4, 5], -2, 2) AS tail`,
    rule: 'slice(x, start, length); a negative start counts from the end',
    expected: [{ middle: [2, 3, 4], tail: [4, 5] }],
  },
  {
    name: 'array: array_max and array_min',
    sql: `SELECT array_max(ARRAY[3, 1, 2]) AS max_v, array_min(ARRAY[3, 1, 2]) AS min_v`,
    rule: 'array_max / array_min',
    expected: [{ max_v: 3, min_v: 1 }],
  },
  {
    name: 'array: element_at is 1-based, negative from the end, NULL past the end',
    sql: `SELECT element_at(ARRAY[10, 20, 30], 1) AS first_v, element_at(ARRAY[10, 20, 30], -1) AS last_v, element_at(ARRAY[10, 20, 30], 5) AS beyond, ARRAY[10, 20, 30][2] AS second_v`,
    rule: 'element_at(array, index): 1-based, index < 0 counts from the end, NULL beyond the length (the [] subscript fails there)',
    expected: [{ first_v: 10, last_v: 30, beyond: null, second_v: 20 }],
  },
  {
    name: 'array: cardinality and contains',
    sql: `SELECT cardinality(ARRAY[1, 2, 3]) AS n, contains(ARRAY['a', 'b'], 'b') AS has_b, contains(ARRAY['a', 'b'], 'z') AS has_z`,
    rule: 'cardinality(array); contains(array, element)',
    expected: [{ n: 3, has_b: true, has_z: false }],
  },
  {
    name: 'array: array_distinct keeps first occurrences in order',
    sql: `SELECT array_distinct(ARRAY[1, 2, 2, 3, 1]) AS v`,
    rule: 'array_distinct removes duplicates',
    expected: [{ v: [1, 2, 3] }],
  },
  {
    name: 'array: array_sort puts NULL last',
    sql: `SELECT array_sort(ARRAY[3, 1, 2]) AS numbers, array_sort(ARRAY['b', NULL, 'a']) AS strings`,
    rule: 'array_sort: null elements are placed at the end',
    expected: [{ numbers: [1, 2, 3], strings: ['a', 'b', null] }],
  },
  {
    name: 'array: array_sort with a comparator is refused locally, naming Athena',
    sql: `SELECT array_sort(ARRAY[3, 2, 5, 1, 2], (x, y) -> IF(x < y, 1, IF(x = y, 0, -1))) AS v`,
    rule: 'array.md example: a descending comparator ([5, 3, 2, 2, 1] in Athena); DuckDB sorts lists without a comparator',
    expected: { error: /array_sort with a comparator runs on Athena but not in the local engine/ },
  },
  {
    name: 'array: array_position and array_remove',
    sql: `SELECT array_position(ARRAY[5, 6, 7], 6) AS pos, array_position(ARRAY[5, 6, 7], 9) AS missing, array_remove(ARRAY[1, 2, 1, 3], 1) AS removed`,
    rule: 'array_position is 1-based, 0 when absent; array_remove removes every equal element',
    expected: [{ pos: 2, missing: 0, removed: [2, 3] }],
  },
  {
    name: 'array: sequence of integers and of dates',
    sql: `SELECT sequence(1, 5) AS ints, sequence(1, 10, 3) AS stepped, sequence(DATE '2026-11-20', DATE '2026-11-22') AS days`,
    rule: 'sequence(start, stop[, step]); dates step by 1 day by default',
    expected: [{ ints: [1, 2, 3, 4, 5], stepped: [1, 4, 7, 10], days: ['2026-11-20', '2026-11-21', '2026-11-22'] }],
  },
  {
    name: 'array: concatenation with || and concat, flatten',
    sql: `SELECT ARRAY[1, 2] || ARRAY[3] AS piped, ARRAY[1] || 2 AS appended, concat(ARRAY[1], ARRAY[2, 3]) AS concatenated, flatten(ARRAY[ARRAY[1, 2], ARRAY[3]]) AS flat`,
    rule: 'array.md: || concatenates arrays or an array and an element; flatten',
    expected: [{ piped: [1, 2, 3], appended: [1, 2], concatenated: [1, 2, 3], flat: [1, 2, 3] }],
  },
  {
    name: 'array: set operations on arrays',
    sql: `SELECT array_sort(array_except(ARRAY[1, 2, 3], ARRAY[2])) AS except_v, array_sort(array_intersect(ARRAY[1, 2, 3], ARRAY[3, 2, 9])) AS intersect_v, array_sort(array_union(ARRAY[1, 2], ARRAY[2, 3])) AS union_v`,
    rule: 'array_except / array_intersect / array_union, without duplicates',
    expected: [{ except_v: [1, 3], intersect_v: [2, 3], union_v: [1, 2, 3] }],
  },
  {
    name: 'array: ARRAY of integer and decimal is decimal',
    sql: `SELECT ARRAY[1, 1.2, 4][2] AS v, typeof(ARRAY[1, 1.2, 4]) AS t`,
    rule: 'array.md: elements coerce to a common type (decimal); the subscript example returns 1.2',
    expected: [{ v: 1.2, t: 'array(decimal(11,1))' }],
  },
  {
    name: 'map: map_filter on the metadata',
    sql: `SELECT map_filter(request_metadata, (k, v) -> k LIKE 'model%') AS m FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'map_filter(map, function(K,V,boolean))',
    expected: [{ m: { model_name: 'iris-classifier', model_version: '2' } }],
  },
  {
    name: 'map: map_keys and map_values',
    sql: `SELECT array_sort(map_keys(request_metadata)) AS keys, array_sort(map_values(request_metadata)) AS vals FROM iris_payload WHERE request_id = 'r03'`,
    rule: 'map_keys / map_values (unordered, sorted here); varchar sorts by code point, a prefix first',
    expected: [{ keys: ['endpoint_name', 'model_name', 'model_version', 'served_entity_name'], vals: ['3', 'iris', 'iris-classifier', 'iris-classifier-3'] }],
  },
  {
    name: 'map: map(ARRAY, ARRAY) and element_at',
    sql: `SELECT map(ARRAY['a', 'b'], ARRAY[1, 2]) AS m, element_at(map(ARRAY['a', 'b'], ARRAY[1, 2]), 'b') AS b, map(ARRAY['a'], ARRAY[1])['a'] AS a`,
    rule: 'map(array(K), array(V)); element_at(map, key); the [] subscript on a present key',
    expected: [{ m: { a: 1, b: 2 }, b: 2, a: 1 }],
  },
  {
    name: 'map: map_from_entries, map_concat, transform_values',
    sql: `SELECT map_from_entries(ARRAY[ROW('a', 1), ROW('b', 2)]) AS entries, map_concat(map(ARRAY['a'], ARRAY[1]), map(ARRAY['a', 'c'], ARRAY[9, 3])) AS merged, transform_values(map(ARRAY['x'], ARRAY[2]), (k, v) -> v * 10) AS scaled`,
    rule: 'map.md: map_concat keeps the last value of a key; transform_values',
    expected: [{ entries: { a: 1, b: 2 }, merged: { a: 9, c: 3 }, scaled: { x: 20 } }],
  },
  {
    name: 'map: cardinality of the metadata map',
    sql: `SELECT DISTINCT cardinality(request_metadata) AS n FROM iris_payload`,
    rule: 'cardinality(map) is its number of entries',
    expected: [{ n: 4 }],
  },
  {
    name: 'row: field access with .field',
    sql: `SELECT CAST(ROW(1, 'a') AS ROW(id BIGINT, name VARCHAR)).name AS name, CAST(ROW(1, 'a') AS ROW(id BIGINT, name VARCHAR)).id AS id`,
    rule: 'ROW fields are read with the dereference operator .field',
    expected: [{ name: 'a', id: 1 }],
  },
  {
    name: 'row: a ROW value as a column',
    sql: `SELECT CAST(ROW(0.75e0, 8) AS ROW(accuracy DOUBLE, labeled BIGINT)) AS r`,
    rule: 'a ROW with named fields renders as its fields by name',
    expected: [{ r: { accuracy: 0.75, labeled: 8 } }],
  },
];
