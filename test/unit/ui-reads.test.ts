import { describe, expect, it } from 'vitest';
import { TranslationError } from '../../lambdas/core/athena-sql/functions.js';
import { SqlSyntaxError, parseStatement } from '../../lambdas/core/athena-sql/parse.js';
import { checkReadOnly } from '../../lambdas/core/athena-sql/read-only.js';
import { conversationOf } from '../../lambdas/ui/conversation.js';
import { pageRoutes } from '../../lambdas/ui/page.js';
import { binWidth, categoryCountsSql, numericBinsSql, requestFilterSchema, requestListSql, tableCountsSql } from '../../lambdas/ui/queries.js';

const filter = (params: Record<string, string>) => requestFilterSchema.parse(params);

describe("the requests list's SQL", () => {
  it('turns each filter into a condition, with the date partition bounding a time range', () => {
    const sql = requestListSql(filter({ endpoint: 'iris-classifier', from: '2026-11-30T20:00', to: '2026-12-01T01:30:00Z', status: '5xx', served_entity: 'iris-2', requester: 'arn:aws:iam::1:role/x', client_request_id: 'order-42', page: '2', page_size: '10' }));
    expect(sql).toBe(
      [
        'SELECT request_id, client_request_id, CAST(request_time AS VARCHAR) AS request_time, "date", status_code, execution_time_ms,',
        "       element_at(request_metadata, 'served_entity_name') AS served_entity_name, requester, array_join(logging_error_codes, ', ') AS logging_error_codes",
        'FROM iris_classifier_payload',
        `WHERE "date" >= '2026-11-30'`,
        "  AND request_time >= TIMESTAMP '2026-11-30 20:00:00.000'",
        `  AND "date" <= '2026-12-01'`,
        "  AND request_time < TIMESTAMP '2026-12-01 01:30:00.000'",
        '  AND status_code BETWEEN 500 AND 599',
        "  AND element_at(request_metadata, 'served_entity_name') = 'iris-2'",
        "  AND requester = 'arn:aws:iam::1:role/x'",
        "  AND client_request_id = 'order-42'",
        'ORDER BY timestamp_ms DESC, request_id',
        'OFFSET 20 LIMIT 11',
      ].join('\n'),
    );
  });

  it('reads a zone offset, exact codes and errors, and quotes what the user typed', () => {
    expect(requestListSql(filter({ endpoint: 'iris', from: '2026-11-30T23:30+02:00' }))).toContain("TIMESTAMP '2026-11-30 21:30:00.000'");
    expect(requestListSql(filter({ endpoint: 'iris', status: '503' }))).toContain('status_code = 503');
    expect(requestListSql(filter({ endpoint: 'iris', status: 'errors' }))).toContain('status_code >= 400');
    expect(requestListSql(filter({ endpoint: 'iris', client_request_id: "x' OR '1'='1" }))).toContain("client_request_id = 'x'' OR ''1''=''1'");
    expect(requestListSql(filter({ endpoint: 'iris' }))).not.toContain('WHERE');
  });

  it('refuses a bad filter by name', () => {
    for (const [params, path] of [
      [{ endpoint: 'iris', from: '30/11/2026' }, 'from'],
      [{ endpoint: 'iris', to: '2026-02-30T10:00' }, 'to'],
      [{ endpoint: 'iris', status: '2XX' }, 'status'],
      [{ endpoint: 'iris', page: '-1' }, 'page'],
      [{ endpoint: 'iris', page_size: '0' }, 'page_size'],
      [{ endpoint: 'iris', extra: '1' }, ''],
    ] as const) {
      const parsed = requestFilterSchema.safeParse(params);
      expect(parsed.success, JSON.stringify(params)).toBe(false);
      if (path) expect(parsed.error?.issues[0]?.path).toEqual([path]);
    }
  });

  it('counts rows per table and dates the last request of payload tables', () => {
    expect(tableCountsSql(['iris_payload', 'iris_alerts'], new Date('2026-11-30T12:00:00Z'))).toBe(
      [
        "SELECT 'iris_payload' AS table_name, count(*) AS row_count, CAST(NULL AS VARCHAR) AS last_request FROM iris_payload",
        "SELECT 'iris_payload', CAST(NULL AS BIGINT), CAST(max(request_time) AS VARCHAR) FROM iris_payload WHERE \"date\" >= '2026-11-23'",
        "SELECT 'iris_alerts' AS table_name, count(*) AS row_count, CAST(NULL AS VARCHAR) AS last_request FROM iris_alerts",
      ].join('\nUNION ALL\n'),
    );
  });

  it('bins a column over the range given, as DOUBLE literals, in the scope asked, and only column names pass', () => {
    const scope = { endpoint: 'iris', model_id: 'iris-classifier/2', slice_key: 'model_version', slice_value: "2'", slice_type: null };
    const sql = numericBinsSql(scope, new Date('2026-11-30T20:00:00Z'), new Date('2026-11-30T21:00:00Z'), new Date('2026-11-30T22:00:00Z'), 'sepal_length', -2, 8, 20);
    expect(sql).toContain('least(19, greatest(0, CAST(floor(CAST("sepal_length" AS DOUBLE) / 5e-1 - (-2e+0) / 5e-1) AS BIGINT)))');
    expect(sql).toContain(`"date" BETWEEN DATE '2026-11-30' AND DATE '2026-11-30'`);
    // A range wider than a double still has finite bins; one value has one bin.
    expect(binWidth(-1.7e308, 1.7e308, 20)).toBeCloseTo(1.7e307, -300);
    expect(binWidth(3, 3, 20)).toBeNull();
    // Slices are compared as the refresh named them: by value for typed columns.
    const typed = (type: string, value: string) => numericBinsSql({ ...scope, slice_key: 'sepal_width', slice_value: value, slice_type: type }, new Date(0), new Date(1), new Date(2), 'x', 0, 1, 2);
    expect(typed('DOUBLE', '3')).toContain('"sepal_width" = 3e+0');
    expect(typed('BIGINT', '-4')).toContain('"sepal_width" = -4');
    expect(typed('BOOLEAN', 'true')).toContain('"sepal_width" = true');
    expect(typed('DOUBLE', 'abc')).toContain(`CAST("sepal_width" AS VARCHAR) = 'abc'`);
    expect(sql).toContain("model_id = 'iris-classifier/2'");
    expect(sql).toContain(`CAST("model_version" AS VARCHAR) = '2'''`);
    expect(sql).toContain(`CASE WHEN "timestamp" >= TIMESTAMP '2026-11-30 21:00:00.000' THEN 'current' ELSE 'previous' END`);
    // One value everywhere: one bin.
    expect(numericBinsSql({ ...scope, model_id: '*', slice_key: null, slice_value: null, slice_type: null }, new Date(0), new Date(1), new Date(2), 'x', 3, 3, 1)).toMatch(/SELECT .* AS side, 0 AS bin/);
    expect(() => categoryCountsSql(scope, new Date(0), new Date(1), new Date(2), 'x"; DROP')).toThrow(/must be an unpacked column name/);
  });
});

describe("the console's guard on Athena", () => {
  const db = 'inference_tables_dev';
  it('lets queries, SHOW and DESCRIBE of the environment through', () => {
    for (const sql of [
      'SELECT 1',
      'WITH a AS (SELECT * FROM iris_payload) SELECT count(*) FROM a',
      'SELECT * FROM inference_tables_dev.iris_payload p JOIN awsdatacatalog.inference_tables_dev.iris_unpacked u ON p.request_id = u.request_id',
      'VALUES 1, 2',
      'SHOW TABLES',
      'SHOW TABLES FROM inference_tables_dev',
      "SHOW TABLES 'iris*'",
      'SHOW COLUMNS FROM iris_payload',
      'DESCRIBE inference_tables_dev.iris_payload',
      'SHOW CREATE TABLE iris_payload',
      'SHOW CREATE VIEW endpoint_usage',
      'SHOW PARTITIONS iris_payload',
      'SELECT x FROM UNNEST(ARRAY[1, 2]) AS t(x)',
      'TABLE iris_payload',
      'WITH x AS (TABLE inference_tables_dev.iris_payload) SELECT count(*) FROM x',
    ])
      expect(() => checkReadOnly(sql, db), sql).not.toThrow();
  });

  it('refuses by name what writes, defines, or reaches beyond the database', () => {
    for (const [sql, message] of [
      ['CREATE TABLE t AS SELECT 1', /CREATE is not one/],
      ['DELETE FROM iris_labels', /DELETE is not one/],
      ['ALTER TABLE iris_payload ADD COLUMN x int', /ALTER is not one/],
      ['EXPLAIN ANALYZE SELECT 1', /EXPLAIN is not one/],
      ['SET SESSION x = 1', /SET is not one/],
      ['WITH FUNCTION f(x int) RETURNS int RETURN x SELECT f(1)', /defines no function/],
      ['SHOW PARTITIONS other.iris_payload', /other is another database/],
      ["SHOW TABLES IN other 'x*'", /other is another database/],
      ['SHOW COLUMNS FROM other.t', /other is another database/],
      ['SHOW CREATE TABLE other.t', /other is another database/],
      ['SHOW CREATE VIEW other.v', /other is another database/],
      ['SELECT * FROM hive.inference_tables_dev.t', /catalog hive is not one of them/],
      ['SELECT (SELECT max(x) FROM other.t) FROM iris_payload', /other is another database/],
      ['TABLE other.t', /other is another database/],
      ['SELECT * FROM (TABLE information_schema.tables)', /information_schema is another database/],
      ['SELECT 1 UNION ALL TABLE "lambda:ddb".default.users', /catalog lambda:ddb is not one of them/],
      ['SHOW SCHEMAS', /lists only this environment's tables/],
      ['SHOW DATABASES', /lists only this environment's tables/],
    ] as const) {
      expect(() => checkReadOnly(sql, db), sql).toThrow(TranslationError);
      expect(() => checkReadOnly(sql, db), sql).toThrow(message);
    }
    expect(() => checkReadOnly('SELEC 1', db)).toThrow(SqlSyntaxError);
    expect(parseStatement('SELECT 1')).toBeDefined();
  });
});

describe('an LLM call as a conversation', () => {
  it('reads chat messages (text parts joined), tool calls, and the choices with why they stopped', () => {
    const request = JSON.stringify({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: 'hi ' }, { type: 'text', text: 'there' }] }, 'junk'] });
    const response = JSON.stringify({ choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 't1' }] }, finish_reason: 'tool_calls' }, 'junk'] });
    expect(conversationOf(request, response)).toEqual([
      { role: 'system', text: 'be brief' },
      { role: 'user', text: 'hi there' },
      { role: 'assistant', text: '', tool_calls: [{ id: 't1' }], finish_reason: 'tool_calls' },
    ]);
  });

  it('reads completions, and is null for what is not an LLM call', () => {
    expect(conversationOf(JSON.stringify({ prompt: ['a', 'b'] }), JSON.stringify({ choices: [{ text: 'c', finish_reason: 'length' }] }))).toEqual([
      { role: 'prompt', text: 'a\nb' },
      { role: 'completion', text: 'c', finish_reason: 'length' },
    ]);
    expect(conversationOf(JSON.stringify({ prompt: 'a' }), null)).toEqual([{ role: 'prompt', text: 'a' }]);
    expect(conversationOf(JSON.stringify({ inputs: [[1]] }), '{}')).toBeNull();
    expect(conversationOf('not json', null)).toBeNull();
    expect(conversationOf('[1]', null)).toBeNull();
    expect(conversationOf(null, null)).toBeNull();
  });
});

describe("the page's files", () => {
  const routes = pageRoutes();
  it('serves the page, its scripts and uPlot from this server, and nothing else', async () => {
    const page = await routes('GET', new URL('http://x/'));
    expect(page).toMatchObject({ status: 200, contentType: 'text/html; charset=utf-8' });
    // No CDN: every script and style the page loads is one of its own paths.
    const sources = [...(page?.body ?? '').matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
    expect(sources.sort()).toEqual(['/ui/app.css', '/ui/app.js', '/ui/dom.js', '/ui/json.js', '/ui/monitor.js', '/ui/uplot.css', '/ui/uplot.js']);
    for (const path of sources) expect((await routes('GET', new URL(`http://x${path}`)))?.status, path).toBe(200);
    expect((await routes('GET', new URL('http://x/ui/uplot.js')))?.body).toContain('uPlot');
    expect(await routes('GET', new URL('http://x/favicon.ico'))).toMatchObject({ status: 204 });
    expect(await routes('POST', new URL('http://x/'))).toMatchObject({ status: 405 });
    expect(routes('GET', new URL('http://x/ui/other.js'))).toBeUndefined();
  });
});
