/**
 * The tables the refresh and the views make: `iris_unpacked` (one row per prediction, its
 * label joined), `iris_labels`, `chat_unpacked`, `endpoint_usage` and `served_entities`. The
 * unpacked rows and labels are listed in `fixture.ts`: 11 predictions, 8 labelled, 6 right.
 * On Athena the unpacked table is Iceberg: "date" is a DATE, "timestamp" a timestamp(6).
 */
import type { Case } from './fixture.js';

export const cases: readonly Case[] = [
  {
    name: 'unpacked: predictions per date',
    sql: `SELECT "date", count(*) AS n FROM iris_unpacked GROUP BY "date"`,
    rule: 'the unpacked date is a DATE, printed yyyy-MM-dd; 5 predictions on 2026-11-21, 6 on 2026-11-22',
    expected: [{ date: '2026-11-21', n: 5 }, { date: '2026-11-22', n: 6 }],
  },
  {
    name: 'unpacked: filter the DATE column with DATE literals',
    sql: `SELECT count_if("date" = DATE '2026-11-22') AS on_22, count_if("date" = CAST('2026-11-22' AS DATE)) AS cast_22, count_if("date" BETWEEN DATE '2026-11-21' AND DATE '2026-11-21') AS on_21 FROM iris_unpacked`,
    rule: 'a DATE compares with a DATE literal or a varchar cast to DATE (never with a bare varchar)',
    expected: [{ on_22: 6, cast_22: 6, on_21: 5 }],
  },
  {
    name: 'unpacked: column types',
    sql: `SELECT typeof("date") AS d, typeof(prediction) AS p, typeof(row_index) AS r, typeof(sepal_length) AS f, typeof(label) AS l FROM iris_unpacked WHERE request_id = 'r01' AND row_index = 0`,
    rule: 'the signature types the features (double) and the prediction (long -> bigint); the label takes the prediction\'s type',
    expected: [{ d: 'date', p: 'bigint', r: 'integer', f: 'double', l: 'bigint' }],
  },
  {
    name: 'unpacked: the "timestamp" column',
    sql: `SELECT "timestamp", typeof("timestamp") AS t FROM iris_unpacked WHERE request_id = 'r11'`,
    rule: 'Athena Iceberg timestamps are timestamp(6) (microseconds), printed with 6 fractional digits',
    expected: [{ timestamp: '2026-11-22 23:59:59.999000', t: 'timestamp(6)' }],
  },
  {
    name: 'unpacked: accuracy over the labelled rows',
    sql: `SELECT count_if(label = prediction) AS correct, count(label) AS labeled, CAST(count_if(label = prediction) AS DOUBLE) / count(label) AS accuracy FROM iris_unpacked`,
    rule: 'label = prediction is NULL for unlabelled rows (count_if skips them); 6 of 8 right',
    expected: [{ correct: 6, labeled: 8, accuracy: 0.75 }],
  },
  {
    name: 'unpacked: accuracy by integer division is 0',
    sql: `SELECT count_if(label = prediction) / count(label) AS accuracy FROM iris_unpacked`,
    rule: 'bigint / bigint truncates: 6 / 8 = 0',
    expected: [{ accuracy: 0 }],
  },
  {
    name: 'unpacked: accuracy per model version',
    sql: `SELECT model_version, count(*) AS n, count(label) AS labeled, CAST(count_if(label = prediction) AS DOUBLE) / count(label) AS accuracy FROM iris_unpacked GROUP BY model_version`,
    rule: 'version 2: 8 predictions, 6 labelled, 4 right; version 3: 3 predictions, 2 labelled, both right',
    expected: [{ model_version: '2', n: 8, labeled: 6, accuracy: 4 / 6 }, { model_version: '3', n: 3, labeled: 2, accuracy: 1 }],
  },
  {
    name: 'unpacked: feature mean per day',
    sql: `SELECT "date", avg(sepal_length) AS mean, min(petal_width) AS min_pw, max(petal_width) AS max_pw FROM iris_unpacked GROUP BY "date"`,
    rule: 'avg/min/max of doubles: day 1 sepal lengths sum to 29.0 over 5, day 2 to 36.0 over 6',
    expected: [{ date: '2026-11-21', mean: 5.8, min_pw: 0.2, max_pw: 2.5 }, { date: '2026-11-22', mean: 6.0, min_pw: 0.2, max_pw: 2.3 }],
  },
  {
    name: 'unpacked: confusion counts',
    sql: `SELECT label, prediction, count(*) AS n FROM iris_unpacked WHERE label IS NOT NULL GROUP BY label, prediction`,
    rule: 'GROUP BY two columns over the labelled rows',
    expected: [
      { label: 0, prediction: 0, n: 3 },
      { label: 1, prediction: 1, n: 1 },
      { label: 1, prediction: 2, n: 1 },
      { label: 2, prediction: 1, n: 1 },
      { label: 2, prediction: 2, n: 2 },
    ],
  },
  {
    name: 'unpacked: the labels of one batch request',
    sql: `SELECT row_index, prediction, label FROM iris_unpacked WHERE client_request_id = 'order-5' ORDER BY row_index`,
    rule: 'one row per prediction of the batch, row_index from 0',
    expected: [{ row_index: 0, prediction: 0, label: 0 }, { row_index: 1, prediction: 2, label: 2 }, { row_index: 2, prediction: 1, label: 2 }],
    ordered: true,
  },
  {
    name: 'unpacked: model ids and the empty probabilities',
    sql: `SELECT model_id, count(*) AS n, count(probabilities) AS with_probabilities FROM iris_unpacked GROUP BY model_id`,
    rule: 'model_id is <model name>/<version>; the iris model returned no probabilities',
    expected: [{ model_id: 'iris-classifier/2', n: 8, with_probabilities: 0 }, { model_id: 'iris-classifier/3', n: 3, with_probabilities: 0 }],
  },
  {
    name: 'unpacked: LEFT JOIN the payload to its predictions',
    sql: `SELECT p.request_id, count(u.request_id) AS predictions FROM iris_payload p LEFT JOIN iris_unpacked u ON u.request_id = p.request_id GROUP BY p.request_id`,
    rule: 'LEFT JOIN keeps requests without predictions (errors, r09 whose request was not logged) with count 0',
    expected: [
      { request_id: 'r01', predictions: 2 }, { request_id: 'r02', predictions: 1 }, { request_id: 'r03', predictions: 2 }, { request_id: 'r04', predictions: 0 },
      { request_id: 'r05', predictions: 3 }, { request_id: 'r06', predictions: 1 }, { request_id: 'r07', predictions: 0 }, { request_id: 'r08', predictions: 1 },
      { request_id: 'r09', predictions: 0 }, { request_id: 'r10', predictions: 0 }, { request_id: 'r11', predictions: 1 }, { request_id: 'r12', predictions: 0 },
    ],
  },
  {
    name: 'unpacked: the last row of each request by window',
    sql: `SELECT request_id, row_index FROM (SELECT request_id, row_index, row_number() OVER (PARTITION BY request_id ORDER BY row_index DESC) AS rn FROM iris_unpacked) AS t WHERE rn = 1`,
    rule: 'row_number per request, descending',
    expected: [
      { request_id: 'r01', row_index: 1 }, { request_id: 'r02', row_index: 0 }, { request_id: 'r03', row_index: 1 }, { request_id: 'r05', row_index: 2 },
      { request_id: 'r06', row_index: 0 }, { request_id: 'r08', row_index: 0 }, { request_id: 'r11', row_index: 0 },
    ],
  },
  {
    name: 'unpacked: the request that was not logged is an unpack error',
    sql: `SELECT request_id, client_request_id FROM iris_unpack_errors`,
    rule: 'r09 answered 200 but its request exceeded the capture cap (request NULL)',
    expected: [{ request_id: 'r09', client_request_id: 'order-9' }],
  },
  {
    name: 'labels: rows, requests and the partition',
    sql: `SELECT count(*) AS n, count(DISTINCT client_request_id) AS requests, max(label) AS top, typeof(max(label)) AS t, max(uploaded) AS uploaded FROM iris_labels`,
    rule: 'the labels table keeps labels as varchar, partitioned by the upload date',
    expected: [{ n: 8, requests: 4, top: '2', t: 'varchar', uploaded: '2026-11-23' }],
  },
  {
    name: 'labels: joined to predictions with a cast',
    sql: `SELECT count(*) AS n FROM iris_unpacked u JOIN iris_labels l ON l.client_request_id = u.client_request_id AND l.row_index = u.row_index WHERE CAST(l.label AS BIGINT) = u.prediction`,
    rule: 'CAST(varchar AS BIGINT) before comparing with the bigint prediction',
    expected: [{ n: 6 }],
  },
  {
    name: 'chat: the unpacked chat rows',
    sql: `SELECT client_request_id, prompt_tokens, completion_tokens, total_tokens, finish_reason, "input" FROM chat_unpacked`,
    rule: 'one row per answered chat call with its usage and the last user message; the failed call c03 has none',
    expected: [
      { client_request_id: 'chat-1', prompt_tokens: 10, completion_tokens: 2, total_tokens: 12, finish_reason: 'stop', input: 'hello there' },
      { client_request_id: 'chat-2', prompt_tokens: 20, completion_tokens: 4, total_tokens: 24, finish_reason: 'stop', input: 'what is an iris' },
    ],
  },
  {
    name: 'chat: the messages column is JSON text',
    sql: `SELECT json_array_length(messages) AS n, json_extract_scalar(messages, '$[0].role') AS first_role FROM chat_unpacked WHERE client_request_id = 'chat-2'`,
    rule: 'json functions take the varchar messages column',
    expected: [{ n: 2, first_role: 'system' }],
  },
  {
    name: 'usage: tokens per caller (README query)',
    sql: `SELECT requester, endpoint, sum(input_tokens / sampling_fraction) AS input_tokens, sum(output_tokens / sampling_fraction) AS output_tokens, count(*) AS calls, count_if(tokens_counted) AS counted FROM endpoint_usage WHERE "date" >= '2026-11-01' GROUP BY 1, 2`,
    rule: 'bigint / double is double; sum skips the NULL tokens of the failed call; tokens were reported, not counted',
    expected: [
      { requester: 'local:alice', endpoint: 'chat', input_tokens: 10, output_tokens: 2, calls: 2, counted: 0 },
      { requester: 'local:bob', endpoint: 'chat', input_tokens: 20, output_tokens: 4, calls: 1, counted: 0 },
    ],
  },
  {
    name: 'usage: calls per API',
    sql: `SELECT api, count(*) AS calls, count_if(streamed) AS streamed_calls, avg(latency_ms) AS mean_latency, max(time_to_first_token_ms) AS ttft FROM endpoint_usage GROUP BY api`,
    rule: 'the view maps request_format messages to api chat; latency is the backend time (100, 200, 300)',
    expected: [{ api: 'chat', calls: 3, streamed_calls: 1, mean_latency: 200, ttft: 30 }],
  },
  {
    name: 'usage: a failed call has no tokens',
    sql: `SELECT request_id, status_code, input_tokens, output_tokens FROM endpoint_usage WHERE status_code >= 500`,
    rule: 'a refused or failed call has NULL tokens',
    expected: [{ request_id: 'c03', status_code: 500, input_tokens: null, output_tokens: null }],
  },
  {
    name: 'served entities: payload JOIN served_entities USING (served_entity_id)',
    sql: `SELECT s.entity_name, s.entity_version, count(*) AS n FROM iris_payload p JOIN served_entities s USING (served_entity_id) GROUP BY s.entity_name, s.entity_version`,
    rule: 'JOIN ... USING joins on the named column; every payload row carries its served entity\'s id',
    expected: [{ entity_name: 'iris-classifier', entity_version: '2', n: 8 }, { entity_name: 'iris-classifier', entity_version: '3', n: 4 }],
  },
  {
    name: 'served entities: the USING column is unqualified',
    sql: `SELECT count(DISTINCT served_entity_id) AS ids, s.backend_type, s.backend_target, count(*) AS calls FROM chat_payload p JOIN served_entities s USING (served_entity_id) GROUP BY s.backend_type, s.backend_target`,
    rule: 'after USING the join column is referenced without a qualifier; chat is served by the builtin echo model',
    expected: [{ ids: 1, backend_type: 'builtin', backend_target: 'echo', calls: 3 }],
  },
  {
    name: 'served entities: the iris endpoint\'s configuration',
    sql: `SELECT entity_version, stage, traffic_percentage, active, configured_from FROM served_entities WHERE endpoint = 'iris' AND route = 'endpoint'`,
    rule: 'the demo configuration, applied at 2026-11-01 00:00 UTC and still active',
    expected: [
      { entity_version: '2', stage: 'Production', traffic_percentage: 90, active: true, configured_from: '2026-11-01 00:00:00.000' },
      { entity_version: '3', stage: 'Staging', traffic_percentage: 10, active: true, configured_from: '2026-11-01 00:00:00.000' },
    ],
  },
];
