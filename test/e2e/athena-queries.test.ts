import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { QueryError } from '../../lambdas/core/ports.js';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { jodaToStrftime, mysqlToStrftime } from '../../lambdas/core/athena-sql/functions.js';
import { demoConfig } from '../helpers/config.js';

let dir: string;
let engine: LocalQueryEngine;

const base = Date.UTC(2026, 10, 21, 23, 59, 0, 0);
function record(i: number, over: Partial<CaptureRecord> = {}): CaptureRecord {
  const t = base + i * 30_000;
  const iso = new Date(t).toISOString();
  return {
    request_id: `req-${i}`,
    client_request_id: i % 2 === 0 ? `client-${i}` : null,
    timestamp_ms: t,
    request_time: `${iso.slice(0, 10)} ${iso.slice(11, 23)}`,
    status_code: i === 3 ? 400 : 200,
    sampling_fraction: 1,
    execution_time_ms: 10 + i,
    request: JSON.stringify({ dataframe_records: [{ 'sepal length (cm)': 5 + i / 10, species: 'setosa' }], client_request_id: `client-${i}` }),
    response: JSON.stringify({ predictions: [i % 3] }),
    request_metadata: { endpoint_name: 'iris', model_name: 'iris-classifier', model_version: i < 4 ? '2' : '3', served_entity_name: `iris-classifier-${i < 4 ? 2 : 3}` },
    served_entity_id: 'abc',
    logging_error_codes: i === 5 ? ['MAX_RESPONSE_SIZE_EXCEEDED'] : [],
    requester: 'local:anonymous',
    endpoint: 'iris',
    date: iso.slice(0, 10),
    ...over,
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-athena-'));
  const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 1 << 30 });
  await stream.put(Array.from({ length: 6 }, (_, i) => record(i)));
  await stream.close();
  engine = await LocalQueryEngine.open(dir, demoConfig());
});

afterAll(async () => {
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const one = async (sql: string) => (await engine.query(sql)).rows[0] as Record<string, unknown>;

describe('Athena SQL on the local tables', () => {
  it('partitions by the record date, not the arrival date', async () => {
    expect((await engine.query(`SELECT date, count(*) AS n FROM iris_payload GROUP BY date ORDER BY date`)).rows).toEqual([
      { date: '2026-11-21', n: 2 },
      { date: '2026-11-22', n: 4 },
    ]);
  });

  const queries: [string, string, unknown][] = [
    ['json_extract_scalar', `SELECT json_extract_scalar(response, '$.predictions[0]') AS v FROM iris_payload WHERE request_id = 'req-2'`, '2'],
    ['json_extract_scalar on an object is null', `SELECT json_extract_scalar(request, '$.dataframe_records[0]') AS v FROM iris_payload WHERE request_id = 'req-2'`, null],
    // Trino reads text that is not JSON (an HTML error page) as NULL, rather than failing the query.
    ['json_extract_scalar on text that is not JSON is null', `SELECT json_extract_scalar('<html>502</html>', '$.usage.prompt_tokens') AS v FROM iris_payload WHERE request_id = 'req-2'`, null],
    ['json_extract_scalar with a bracketed key', `SELECT json_extract_scalar(request, '$.dataframe_records[0]["sepal length (cm)"]') AS v FROM iris_payload WHERE request_id = 'req-2'`, '5.2'],
    ['json_extract', `SELECT json_format(json_extract(response, '$.predictions')) AS v FROM iris_payload WHERE request_id = 'req-2'`, '[2]'],
    ['json_parse', `SELECT json_array_length(json_extract(json_parse(request), '$.dataframe_records')) AS v FROM iris_payload WHERE request_id = 'req-1'`, 1],
    ['json_array_length', `SELECT json_array_length(json_extract(response, '$.predictions')) AS v FROM iris_payload WHERE request_id = 'req-1'`, 1],
    ['json_size', `SELECT json_size(request, '$.dataframe_records[0]') AS v FROM iris_payload WHERE request_id = 'req-1'`, 2],
    // from_unixtime gives a timestamp(3) with time zone: its text has the milliseconds and the zone.
    ['from_unixtime', `SELECT CAST(from_unixtime(timestamp_ms / 1000) AS VARCHAR) AS v FROM iris_payload WHERE request_id = 'req-0'`, '2026-11-21 23:59:00.000 UTC'],
    ['to_unixtime', `SELECT to_unixtime(request_time) * 1000 = timestamp_ms AS v FROM iris_payload WHERE request_id = 'req-1'`, true],
    ['date_format', `SELECT date_format(request_time, '%Y-%m-%d %H:%i:%s') AS v FROM iris_payload WHERE request_id = 'req-1'`, '2026-11-21 23:59:30'],
    ['date_format with %T', `SELECT date_format(request_time, '%T') AS v FROM iris_payload WHERE request_id = 'req-2'`, '00:00:00'],
    ['approx_percentile', `SELECT approx_percentile(execution_time_ms, 0.5) AS v FROM iris_payload`, 12],
    ['approx_distinct', `SELECT approx_distinct(request_metadata['model_version']) AS v FROM iris_payload`, 2],
    ['cardinality of a map', `SELECT cardinality(request_metadata) AS v FROM iris_payload WHERE request_id = 'req-0'`, 4],
    ['cardinality of an array', `SELECT sum(cardinality(logging_error_codes)) AS v FROM iris_payload`, 1],
    ['element_at on a map', `SELECT element_at(request_metadata, 'model_name') AS v FROM iris_payload WHERE request_id = 'req-0'`, 'iris-classifier'],
    ['element_at on an array', `SELECT element_at(logging_error_codes, 1) AS v FROM iris_payload WHERE request_id = 'req-5'`, 'MAX_RESPONSE_SIZE_EXCEEDED'],
    ['regexp_like', `SELECT count(*) AS v FROM iris_payload WHERE regexp_like(client_request_id, '^client-[02]$')`, 2],
    ['map subscript', `SELECT count(*) AS v FROM iris_payload WHERE request_metadata['model_version'] = '3'`, 2],
    ['contains on an array', `SELECT count(*) AS v FROM iris_payload WHERE contains(logging_error_codes, 'MAX_RESPONSE_SIZE_EXCEEDED')`, 1],
    // The average of a decimal(2,1) keeps its scale in Trino, rounded half up: 0.25 is 0.3.
    ['error rate by version', `SELECT round(avg(CASE WHEN status_code >= 400 THEN 1.0 ELSE 0.0 END), 2) AS v FROM iris_payload WHERE request_metadata['model_version'] = '2'`, 0.3],
    ['error rate by version, as a double', `SELECT round(avg(CASE WHEN status_code >= 400 THEN 1e0 ELSE 0e0 END), 2) AS v FROM iris_payload WHERE request_metadata['model_version'] = '2'`, 0.25],
    ['partition filter on a date string', `SELECT count(*) AS v FROM iris_payload WHERE "date" = '2026-11-22' AND endpoint = 'iris'`, 4],
    ['date_trunc and interval', `SELECT count(*) AS v FROM iris_payload WHERE request_time >= TIMESTAMP '2026-11-22 00:00:00' - INTERVAL '1' DAY`, 6],
  ];

  it.each(queries)('%s', async (_name, sql, expected) => {
    expect((await one(sql)).v).toEqual(expected);
  });

  it('lists the columns of * as Athena does: partitions last in their order, no pseudo-column', async () => {
    const plain = await engine.query('SELECT * FROM iris_payload LIMIT 1');
    const withPath = await engine.query(`SELECT * FROM iris_payload WHERE "$path" LIKE '%.parquet' LIMIT 1`);
    expect(plain.columns.slice(-2)).toEqual(['endpoint', 'date']);
    expect(withPath.columns).toEqual(plain.columns);
    expect((await engine.query(`SELECT count(DISTINCT "$path") AS n FROM iris_payload`)).rows).toEqual([{ n: 2 }]);
  });

  it('gives configured endpoints an empty table before their first request', async () => {
    expect((await engine.query('SELECT count(*) AS n FROM chat_payload')).rows).toEqual([{ n: 0 }]);
  });

  it('names the problem in bad SQL', async () => {
    await expect(engine.query('SELECT * FROM no_such_payload')).rejects.toBeInstanceOf(QueryError);
    await expect(engine.query('SELECT * FROM no_such_payload')).rejects.toThrow(/no_such_payload/);
  });
});

describe('format strings', () => {
  it('translates Trino format letters (date_format) and Joda patterns (format_datetime) to strftime', () => {
    expect(mysqlToStrftime('%Y-%m-%d %H:%i:%s')).toBe('%Y-%m-%d %H:%M:%S');
    expect(mysqlToStrftime('%M %e, %Y %T')).toBe('%B %-d, %Y %H:%M:%S');
    expect(jodaToStrftime("yyyy-MM-dd'T'HH:mm:ss.SSS")).toBe('%Y-%m-%dT%H:%M:%S.%g');
    expect(jodaToStrftime("EEEE d MMMM yyyy, h a ''")).toBe("%A %-d %B %Y, %-I %p '");
  });
});
