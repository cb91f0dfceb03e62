/**
 * JSON functions over the captured bodies, and unpacking them in SQL: casts of JSON to ARRAY,
 * MAP and ROW, UNNEST of the result. The bodies are those of `fixture.ts` (written with
 * JSON.stringify, so 3.0 is written `3`). Trino's JSON functions: functions/json.md.
 */
import type { Case } from './fixture.js';

const FEATURES = 'ROW(sepal_length DOUBLE, sepal_width DOUBLE, petal_length DOUBLE, petal_width DOUBLE)';

export const cases: readonly Case[] = [
  {
    name: 'json: json_extract_scalar of an array element',
    sql: `SELECT json_extract_scalar(response, '$.predictions[1]') AS v FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'json_extract_scalar returns the scalar at the JSONPath as varchar; array indexes are 0-based',
    expected: [{ v: '2' }],
  },
  {
    name: 'json: json_extract_scalar with a bracketed key holding spaces',
    sql: `SELECT json_extract_scalar(request, '$.dataframe_records[0]["sepal length (cm)"]') AS v FROM iris_payload WHERE request_id = 'r04'`,
    rule: 'json_extract paths accept $["key name"] (json.md: json_extract(json, \'$.store["book name"]\'))',
    expected: [{ v: '4.9' }],
  },
  {
    name: 'json: json_extract_scalar of a nested array element',
    sql: `SELECT json_extract_scalar(request, '$.dataframe_split.columns[3]') AS v FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'dotted member access then a 0-based index',
    expected: [{ v: 'petal_width' }],
  },
  {
    name: 'json: json_extract_scalar of an integral number',
    sql: `SELECT json_extract_scalar(request, '$.dataframe_records[0].sepal_width') AS v FROM iris_payload WHERE request_id = 'r02'`,
    rule: 'the scalar is returned as its JSON text: the body holds 3',
    expected: [{ v: '3' }],
  },
  {
    name: 'json: the error code of failed requests',
    sql: `SELECT request_id, json_extract_scalar(response, '$.error_code') AS code FROM iris_payload WHERE status_code >= 400`,
    rule: 'json_extract_scalar on the error bodies of r04, r07, r10, r12',
    expected: [
      { request_id: 'r04', code: 'BAD_REQUEST' },
      { request_id: 'r07', code: 'TEMPORARILY_UNAVAILABLE' },
      { request_id: 'r10', code: 'INTERNAL_ERROR' },
      { request_id: 'r12', code: 'REQUEST_LIMIT_EXCEEDED' },
    ],
  },
  {
    name: 'json: json_extract_scalar of an object, a missing path or a null body is null',
    sql: `SELECT json_extract_scalar(request, '$.dataframe_split') AS of_object, json_extract_scalar(request, '$.nope') AS missing, json_extract_scalar(CAST(NULL AS VARCHAR), '$.a') AS nothing FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'json_extract_scalar: the value must be a scalar, else NULL; a path that matches nothing gives NULL; NULL input gives NULL',
    expected: [{ of_object: null, missing: null, nothing: null }],
  },
  {
    name: 'json: json_array_length of the split data',
    sql: `SELECT request_id, json_array_length(json_extract(request, '$.dataframe_split.data')) AS n FROM iris_payload WHERE request_format = 'dataframe_split'`,
    rule: 'json_array_length(json) is the array length; r09 has no logged request (NULL)',
    expected: [{ request_id: 'r01', n: 2 }, { request_id: 'r05', n: 3 }, { request_id: 'r09', n: null }, { request_id: 'r11', n: 1 }],
  },
  {
    name: 'json: predictions answered',
    sql: `SELECT sum(json_array_length(json_extract(response, '$.predictions'))) AS n FROM iris_payload WHERE status_code = 200`,
    rule: 'sum of array lengths: 2+1+2+3+1+1+1+1',
    expected: [{ n: 12 }],
  },
  {
    name: 'json: json_size of objects, arrays and scalars',
    sql: `SELECT json_size(request, '$.dataframe_split') AS of_object, json_size(request, '$.dataframe_split.data') AS of_array, json_size(response, '$.predictions[0]') AS of_scalar FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'json_size: members of an object or array, 0 for a scalar',
    expected: [{ of_object: 2, of_array: 2, of_scalar: 0 }],
  },
  {
    name: 'json: json_format of an extracted array',
    sql: `SELECT json_format(json_extract(response, '$.predictions')) AS v FROM iris_payload WHERE request_id = 'r05'`,
    rule: 'json_format serializes a JSON value to text without whitespace',
    expected: [{ v: '[0,2,1]' }],
  },
  {
    name: 'json: json_parse sorts object keys',
    sql: `SELECT json_format(json_parse('{"b": 1, "a": [true, null]}')) AS v`,
    rule: 'json_parse returns the canonical JSON value (Jackson mapper with ORDER_MAP_ENTRIES_BY_KEYS), json_format prints it compactly',
    expected: [{ v: '{"a":[true,null],"b":1}' }],
  },
  {
    name: 'json: CAST(varchar AS JSON) makes a JSON string, not a parse',
    sql: `SELECT json_format(CAST('[1,2]' AS JSON)) AS v, json_array_length(json_parse('[1,2]')) AS parsed`,
    rule: 'json.md: CAST(string AS JSON) returns a JSON string with its value set to the input; json_parse parses',
    expected: [{ v: '"[1,2]"', parsed: 2 }],
  },
  {
    name: 'json: CAST(json_extract(...) AS ARRAY(BIGINT))',
    sql: `SELECT CAST(json_extract(response, '$.predictions') AS ARRAY(BIGINT)) AS predictions FROM iris_payload WHERE request_id = 'r05'`,
    rule: 'cast from JSON to ARRAY of a supported element type',
    expected: [{ predictions: [0, 2, 1] }],
  },
  {
    name: 'json: CAST(json_parse(request) AS MAP(VARCHAR, JSON)) keys',
    sql: `SELECT array_sort(map_keys(CAST(json_parse(request) AS MAP(VARCHAR, JSON)))) AS keys FROM iris_payload WHERE request_id IN ('r01', 'r02')`,
    rule: 'cast from JSON object to MAP(VARCHAR, JSON) (partial cast of mixed values); r02 was sent without client_request_id',
    expected: [{ keys: ['client_request_id', 'dataframe_split'] }, { keys: ['dataframe_records'] }],
  },
  {
    name: 'json: a value of the MAP(VARCHAR, JSON) cast',
    sql: `SELECT json_format(element_at(m, 'client_request_id')) AS as_json, CAST(element_at(m, 'client_request_id') AS VARCHAR) AS as_text, json_array_length(element_at(m, 'dataframe_records')) AS records FROM (SELECT CAST(json_parse(request) AS MAP(VARCHAR, JSON)) AS m FROM iris_payload WHERE request_id = 'r03') AS t`,
    rule: 'a JSON string formats with its quotes; CAST(JSON string AS VARCHAR) drops them; the records value stays a JSON array',
    expected: [{ as_json: '"order-3"', as_text: 'order-3', records: 2 }],
  },
  {
    name: 'json: CAST to ARRAY(ROW(...)) then UNNEST the records',
    sql: `SELECT p.request_id, t.sepal_length, t.petal_width FROM iris_payload p CROSS JOIN UNNEST(CAST(json_extract(p.request, '$.dataframe_records') AS ARRAY(${FEATURES}))) AS t(sepal_length, sepal_width, petal_length, petal_width) WHERE p.status_code = 200`,
    rule: 'JSON objects cast to ROW by field name; UNNEST of an array of ROW expands the fields into columns; split-format bodies give NULL (no rows)',
    expected: [
      { request_id: 'r02', sepal_length: 5.9, petal_width: 1.5 },
      { request_id: 'r03', sepal_length: 5.0, petal_width: 0.2 },
      { request_id: 'r03', sepal_length: 6.3, petal_width: 2.5 },
      { request_id: 'r06', sepal_length: 7.7, petal_width: 2.3 },
      { request_id: 'r08', sepal_length: 5.5, petal_width: 1.1 },
    ],
  },
  {
    name: 'json: records of every request, missing fields as NULL',
    sql: `SELECT count(*) AS n, count(t.sepal_length) AS with_sepal FROM iris_payload p CROSS JOIN UNNEST(CAST(json_extract(p.request, '$.dataframe_records') AS ARRAY(${FEATURES}))) AS t(sepal_length, sepal_width, petal_length, petal_width)`,
    rule: 'cast from JSON object to ROW: a field missing from the object is NULL (r04 sent "sepal length (cm)"); 8 records-format bodies hold 9 records',
    expected: [{ n: 9, with_sepal: 8 }],
  },
  {
    name: 'json: UNNEST(CAST(... AS ARRAY(JSON))) WITH ORDINALITY',
    sql: `SELECT t.i, json_format(t.x) AS row_json FROM iris_payload p CROSS JOIN UNNEST(CAST(json_extract(p.request, '$.dataframe_split.data') AS ARRAY(JSON))) WITH ORDINALITY AS t(x, i) WHERE p.request_id = 'r05'`,
    rule: 'UNNEST ... WITH ORDINALITY adds a 1-based position column; ARRAY(JSON) keeps each element as JSON',
    expected: [
      { i: 1, row_json: '[4.9,3,1.4,0.2]' },
      { i: 2, row_json: '[5.8,2.7,5.1,1.9]' },
      { i: 3, row_json: '[6,2.2,4,1]' },
    ],
  },
  {
    name: 'json: predictions with their row index',
    sql: `SELECT t.i - 1 AS row_index, CAST(t.x AS BIGINT) AS prediction FROM iris_payload p CROSS JOIN UNNEST(CAST(json_extract(p.response, '$.predictions') AS ARRAY(JSON))) WITH ORDINALITY AS t(x, i) WHERE p.request_id = 'r05'`,
    rule: 'ordinality is bigint from 1; CAST(JSON number AS BIGINT)',
    expected: [{ row_index: 0, prediction: 0 }, { row_index: 1, prediction: 2 }, { row_index: 2, prediction: 1 }],
  },
  {
    name: 'json: a JSON array cast to ROW by position',
    sql: `SELECT CAST(json_extract(request, '$.dataframe_split.data[0]') AS ROW(a DOUBLE, b DOUBLE, c DOUBLE, d DOUBLE)) AS r FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'json.md: when casting JSON to ROW, a JSON array maps to the fields by position',
    expected: [{ r: { a: 5.1, b: 3.5, c: 1.4, d: 0.2 } }],
  },
  {
    name: 'json: CAST(JSON object AS MAP(VARCHAR, INTEGER))',
    sql: `SELECT CAST(JSON '{"k1": 1, "k2": 23}' AS MAP(VARCHAR, INTEGER)) AS m`,
    rule: 'json.md: cast from JSON to MAP with varchar keys',
    expected: [{ m: { k1: 1, k2: 23 } }],
  },
  {
    name: 'json: json_array_contains on the predictions',
    sql: `SELECT request_id FROM iris_payload WHERE json_array_contains(json_extract(response, '$.predictions'), 2)`,
    rule: 'json_array_contains(json, value): r01, r03, r05 and r06 predicted class 2',
    expected: [{ request_id: 'r01' }, { request_id: 'r03' }, { request_id: 'r05' }, { request_id: 'r06' }],
  },
  {
    name: 'json: try(CAST(...)) of a non-numeric scalar is null',
    sql: `SELECT count(try(CAST(json_extract_scalar(response, '$.error_code') AS BIGINT))) AS n, count(*) AS errors FROM iris_payload WHERE status_code >= 400`,
    rule: 'try(expression) returns NULL when the expression fails (CAST(\'BAD_REQUEST\' AS BIGINT))',
    expected: [{ n: 0, errors: 4 }],
  },
  {
    name: 'json: total tokens from the chat responses',
    sql: `SELECT sum(CAST(json_extract_scalar(response, '$.usage.total_tokens') AS BIGINT)) AS tokens FROM chat_payload`,
    rule: 'sum ignores the NULL of the failed call (c03 has no usage): 12 + 24',
    expected: [{ tokens: 36 }],
  },
  {
    name: 'json: the assistant message of a chat response',
    sql: `SELECT json_extract_scalar(response, '$.choices[0].message.content') AS answer FROM chat_payload WHERE request_id = 'c02'`,
    rule: 'nested member and index access',
    expected: [{ answer: 'what is an iris' }],
  },
  {
    name: 'json: messages per chat request',
    sql: `SELECT request_id, json_array_length(json_extract(request, '$.messages')) AS messages FROM chat_payload`,
    rule: 'json_array_length of the messages array',
    expected: [{ request_id: 'c01', messages: 1 }, { request_id: 'c02', messages: 2 }, { request_id: 'c03', messages: 1 }],
  },
  {
    name: 'json: a JSON boolean as BOOLEAN and as text',
    sql: `SELECT request_id, CAST(json_extract(request, '$.stream') AS BOOLEAN) AS stream, json_extract_scalar(request, '$.stream') AS text FROM chat_payload`,
    rule: 'CAST(JSON true AS BOOLEAN); json_extract_scalar gives \'true\'; absent keys give NULL',
    expected: [{ request_id: 'c01', stream: null, text: null }, { request_id: 'c02', stream: true, text: 'true' }, { request_id: 'c03', stream: null, text: null }],
  },
  {
    name: 'json: json_extract on a parsed body keeps the sorted keys',
    sql: `SELECT json_format(json_extract(json_parse(request), '$.messages[0]')) AS message FROM chat_payload WHERE request_id = 'c01'`,
    rule: 'json_parse canonicalizes (keys sorted); json_extract returns the sub-value as JSON',
    expected: [{ message: '{"content":"hello there","role":"user"}' }],
  },
  {
    name: 'json: arithmetic on a cast scalar',
    sql: `SELECT CAST(json_extract_scalar(response, '$.usage.prompt_tokens') AS INTEGER) + 1 AS v FROM chat_payload WHERE request_id = 'c01'`,
    rule: 'json_extract_scalar is varchar; CAST to INTEGER before arithmetic',
    expected: [{ v: 11 }],
  },
];
