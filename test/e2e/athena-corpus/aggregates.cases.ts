/**
 * Aggregate functions, grouping sets and window functions (Trino functions/aggregate.md,
 * window.md, SELECT's GROUP BY). Per day, in request_time order: 2026-11-21 r01 r02 r03 r04;
 * 2026-11-22 r05 r06 r07 r08 r09 r10 r12 r11 (r12 at 15:00, r11 at 23:59).
 */
import type { Case } from './fixture.js';

const DAY1 = `"date" = '2026-11-21'`;

export const cases: readonly Case[] = [
  {
    name: 'aggregates: approx_percentile of a bigint column',
    sql: `SELECT approx_percentile(execution_time_ms, 0.5) AS p50 FROM iris_payload WHERE requester = 'local:alice'`,
    rule: 'approx_percentile(x, p) returns a value of the input; alice\'s times are 10, 30, 50, 90, 110 (NULL ignored)',
    expected: [{ p50: 50 }],
  },
  {
    name: 'aggregates: approx_percentile of a VALUES list',
    sql: `SELECT approx_percentile(x, 0.5) AS p50 FROM (VALUES 1, 2, 3, 4, 5) AS t(x)`,
    rule: 'approx_percentile of five values: the median',
    expected: [{ p50: 3 }],
  },
  {
    name: 'aggregates: approx_distinct',
    sql: `SELECT approx_distinct(requester) AS requesters, approx_distinct(request_metadata['model_version']) AS versions FROM iris_payload`,
    rule: 'approx_distinct (HyperLogLog) is exact for a handful of values',
    expected: [{ requesters: 2, versions: 2 }],
  },
  {
    name: 'aggregates: bool_and and bool_or',
    sql: `SELECT bool_and(status_code < 600) AS all_valid, bool_or(status_code >= 500) AS any_5xx, bool_and(status_code = 200) AS all_ok FROM iris_payload`,
    rule: 'bool_and / bool_or over boolean expressions',
    expected: [{ all_valid: true, any_5xx: true, all_ok: false }],
  },
  {
    name: 'aggregates: max_by and min_by',
    sql: `SELECT max_by(request_id, execution_time_ms) AS slowest, min_by(request_id, execution_time_ms) AS fastest, max_by(request_id, execution_time_ms, 2) AS slowest_two FROM iris_payload`,
    rule: 'max_by(x, y) is the x of the largest y; max_by(x, y, n) the n values in descending order of y',
    expected: [{ slowest: 'r11', fastest: 'r01', slowest_two: ['r11', 'r10'] }],
  },
  {
    name: 'aggregates: arbitrary of a single value',
    sql: `SELECT arbitrary(endpoint) AS endpoint FROM iris_payload`,
    rule: 'arbitrary returns one of the values; every row has endpoint iris',
    expected: [{ endpoint: 'iris' }],
  },
  {
    name: 'aggregates: array_agg with ORDER BY',
    sql: `SELECT array_agg(request_id ORDER BY request_time) AS ids, array_agg(execution_time_ms ORDER BY execution_time_ms DESC) AS times FROM iris_payload WHERE ${DAY1}`,
    rule: 'array_agg(x ORDER BY y) orders the elements',
    expected: [{ ids: ['r01', 'r02', 'r03', 'r04'], times: [40, 30, 20, 10] }],
  },
  {
    name: 'aggregates: histogram',
    sql: `SELECT histogram(request_metadata['model_version']) AS versions FROM iris_payload`,
    rule: 'histogram(x) returns a map of value to count',
    expected: [{ versions: { '2': 8, '3': 4 } }],
  },
  {
    name: 'aggregates: map_agg',
    sql: `SELECT map_agg(request_id, status_code) AS statuses FROM iris_payload WHERE ${DAY1}`,
    rule: 'map_agg(key, value) builds a map',
    expected: [{ statuses: { r01: 200, r02: 200, r03: 200, r04: 400 } }],
  },
  {
    name: 'aggregates: variance and standard deviation, sample and population',
    sql: `SELECT variance(x) AS var_samp_v, var_pop(x) AS var_pop_v, stddev(y) AS sd_samp, stddev_pop(y) AS sd_pop FROM (VALUES (1, 2), (2, 4), (3, 4), (4, 4), (NULL, 5), (NULL, 5), (NULL, 7), (NULL, 9)) AS t(x, y)`,
    rule: 'variance/stddev are the sample statistics (n - 1), var_pop/stddev_pop divide by n; NULLs ignored',
    expected: [{ var_samp_v: 5 / 3, var_pop_v: 1.25, sd_samp: Math.sqrt(32 / 7), sd_pop: 2 }],
  },
  {
    name: 'aggregates: min and max of text',
    sql: `SELECT min(requester) AS first_requester, max(client_request_id) AS last_id, count(DISTINCT requester) AS requesters FROM iris_payload`,
    rule: 'min/max of varchar compare by code point: order-9 sorts after order-12',
    expected: [{ first_requester: 'local:alice', last_id: 'order-9', requesters: 2 }],
  },
  {
    name: 'aggregates: on no rows, sum is NULL and count is 0',
    sql: `SELECT sum(execution_time_ms) AS s, count(*) AS n, max(request_id) AS m FROM iris_payload WHERE status_code = 999`,
    rule: 'an aggregate without GROUP BY returns one row; sum/max of no values is NULL',
    expected: [{ s: null, n: 0, m: null }],
  },
  {
    name: 'aggregates: HAVING',
    sql: `SELECT requester, count(*) AS n FROM iris_payload GROUP BY requester HAVING count_if(status_code >= 400) > 1`,
    rule: 'HAVING filters groups after aggregation: bob has three errors',
    expected: [{ requester: 'local:bob', n: 6 }],
  },
  {
    name: 'grouping: ROLLUP',
    sql: `SELECT "date", requester, count(*) AS n FROM iris_payload GROUP BY ROLLUP ("date", requester)`,
    rule: 'ROLLUP (a, b) = GROUPING SETS ((a, b), (a), ()); rolled-up columns are NULL',
    expected: [
      { date: '2026-11-21', requester: 'local:alice', n: 2 },
      { date: '2026-11-21', requester: 'local:bob', n: 2 },
      { date: '2026-11-22', requester: 'local:alice', n: 4 },
      { date: '2026-11-22', requester: 'local:bob', n: 4 },
      { date: '2026-11-21', requester: null, n: 4 },
      { date: '2026-11-22', requester: null, n: 8 },
      { date: null, requester: null, n: 12 },
    ],
  },
  {
    name: 'grouping: grouping() marks the rolled-up rows',
    sql: `SELECT "date", grouping("date") AS g, count(*) AS n FROM iris_payload GROUP BY ROLLUP ("date")`,
    rule: 'grouping(col) is 1 when the column is aggregated away in that grouping set',
    expected: [{ date: '2026-11-21', g: 0, n: 4 }, { date: '2026-11-22', g: 0, n: 8 }, { date: null, g: 1, n: 12 }],
  },
  {
    name: 'grouping: GROUPING SETS',
    sql: `SELECT request_format, count(*) AS n FROM iris_payload GROUP BY GROUPING SETS ((request_format), ())`,
    rule: 'GROUPING SETS: one grouping per set, () is the grand total',
    expected: [{ request_format: 'dataframe_records', n: 8 }, { request_format: 'dataframe_split', n: 4 }, { request_format: null, n: 12 }],
  },
  {
    name: 'window: row_number per day',
    sql: `SELECT request_id, row_number() OVER (PARTITION BY "date" ORDER BY request_time) AS rn FROM iris_payload`,
    rule: 'row_number() numbers the rows of each partition from 1 in window order',
    expected: [
      { request_id: 'r01', rn: 1 }, { request_id: 'r02', rn: 2 }, { request_id: 'r03', rn: 3 }, { request_id: 'r04', rn: 4 },
      { request_id: 'r05', rn: 1 }, { request_id: 'r06', rn: 2 }, { request_id: 'r07', rn: 3 }, { request_id: 'r08', rn: 4 },
      { request_id: 'r09', rn: 5 }, { request_id: 'r10', rn: 6 }, { request_id: 'r12', rn: 7 }, { request_id: 'r11', rn: 8 },
    ],
  },
  {
    name: 'window: rank and dense_rank with ties',
    sql: `SELECT DISTINCT status_code, rank() OVER (ORDER BY status_code) AS r, dense_rank() OVER (ORDER BY status_code) AS dr FROM iris_payload`,
    rule: 'rank leaves gaps after ties (eight 200s share rank 1), dense_rank does not',
    expected: [
      { status_code: 200, r: 1, dr: 1 },
      { status_code: 400, r: 9, dr: 2 },
      { status_code: 429, r: 10, dr: 3 },
      { status_code: 500, r: 11, dr: 4 },
      { status_code: 503, r: 12, dr: 5 },
    ],
  },
  {
    name: 'window: lag and lead with a default',
    sql: `SELECT request_id, lag(execution_time_ms) OVER (ORDER BY request_time) AS previous_ms, lead(request_id, 1, 'none') OVER (ORDER BY request_time) AS next_id FROM iris_payload WHERE ${DAY1}`,
    rule: 'lag(x) is NULL on the first row; lead(x, offset, default) gives the default past the end',
    expected: [
      { request_id: 'r01', previous_ms: null, next_id: 'r02' },
      { request_id: 'r02', previous_ms: 10, next_id: 'r03' },
      { request_id: 'r03', previous_ms: 20, next_id: 'r04' },
      { request_id: 'r04', previous_ms: 30, next_id: 'none' },
    ],
  },
  {
    name: 'window: running sum per day',
    sql: `SELECT request_id, sum(execution_time_ms) OVER (PARTITION BY "date" ORDER BY request_time) AS running FROM iris_payload`,
    rule: 'an aggregate with ORDER BY in OVER sums from the partition start to the current row (RANGE UNBOUNDED PRECEDING); NULL adds nothing',
    expected: [
      { request_id: 'r01', running: 10 }, { request_id: 'r02', running: 30 }, { request_id: 'r03', running: 60 }, { request_id: 'r04', running: 100 },
      { request_id: 'r05', running: 50 }, { request_id: 'r06', running: 110 }, { request_id: 'r07', running: 110 }, { request_id: 'r08', running: 190 },
      { request_id: 'r09', running: 280 }, { request_id: 'r10', running: 380 }, { request_id: 'r12', running: 380 }, { request_id: 'r11', running: 490 },
    ],
  },
  {
    name: 'window: moving sum over the previous row',
    sql: `SELECT request_id, sum(execution_time_ms) OVER (ORDER BY request_time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair FROM iris_payload WHERE ${DAY1}`,
    rule: 'ROWS BETWEEN 1 PRECEDING AND CURRENT ROW',
    expected: [{ request_id: 'r01', pair: 10 }, { request_id: 'r02', pair: 30 }, { request_id: 'r03', pair: 50 }, { request_id: 'r04', pair: 70 }],
  },
  {
    name: 'window: avg over a partition without ORDER BY',
    sql: `SELECT DISTINCT requester, avg(execution_time_ms) OVER (PARTITION BY requester) AS mean FROM iris_payload`,
    rule: 'without ORDER BY the frame is the whole partition; alice 290 / 5, bob 300 / 5',
    expected: [{ requester: 'local:alice', mean: 58 }, { requester: 'local:bob', mean: 60 }],
  },
  {
    name: 'window: count(*) OVER () and a share of the day',
    sql: `SELECT request_id, count(*) OVER () AS total, execution_time_ms / CAST(sum(execution_time_ms) OVER (PARTITION BY "date") AS DOUBLE) AS share FROM iris_payload WHERE ${DAY1}`,
    rule: 'an empty OVER () spans every row of the result; day 1 times sum to 100',
    expected: [
      { request_id: 'r01', total: 4, share: 0.1 },
      { request_id: 'r02', total: 4, share: 0.2 },
      { request_id: 'r03', total: 4, share: 0.3 },
      { request_id: 'r04', total: 4, share: 0.4 },
    ],
  },
  {
    name: 'window: first_value and last_value over the whole partition',
    sql: `SELECT DISTINCT "date", first_value(request_id) OVER (PARTITION BY "date" ORDER BY request_time) AS first_id, last_value(request_id) OVER (PARTITION BY "date" ORDER BY request_time ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_id FROM iris_payload`,
    rule: 'first_value/last_value; last_value needs an explicit full frame (the default frame ends at the current row)',
    expected: [{ date: '2026-11-21', first_id: 'r01', last_id: 'r04' }, { date: '2026-11-22', first_id: 'r05', last_id: 'r11' }],
  },
  {
    name: 'window: ntile and percent_rank',
    sql: `SELECT request_id, ntile(2) OVER (ORDER BY request_time) AS half, percent_rank() OVER (ORDER BY execution_time_ms) AS pr FROM iris_payload WHERE ${DAY1}`,
    rule: 'ntile(n) splits into n buckets; percent_rank = (rank - 1) / (rows - 1)',
    expected: [
      { request_id: 'r01', half: 1, pr: 0 },
      { request_id: 'r02', half: 1, pr: 1 / 3 },
      { request_id: 'r03', half: 2, pr: 2 / 3 },
      { request_id: 'r04', half: 2, pr: 1 },
    ],
  },
  {
    name: 'window: the slowest request of each day',
    sql: `SELECT "date", request_id FROM (SELECT "date", request_id, row_number() OVER (PARTITION BY "date" ORDER BY execution_time_ms DESC) AS rn FROM iris_payload) AS t WHERE rn = 1`,
    rule: 'top-1 per group with row_number in a subquery; DESC puts NULLs last',
    expected: [{ date: '2026-11-21', request_id: 'r04' }, { date: '2026-11-22', request_id: 'r11' }],
  },
];
