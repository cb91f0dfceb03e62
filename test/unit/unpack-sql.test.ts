import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CapturedRow, unpackCapturedRows } from '../../lambdas/core/unpack-batch.js';
import { PARQUET_ROW_ID, type SqlUnpack, engineLeftoversSql, engineSummarySql, engineTableStatements, sqlUnpackOf, takenBySql } from '../../lambdas/core/unpack-sql.js';
import type { Signature } from '../../lambdas/core/unpacked-schema.js';
import { type CommitPlan, type TableRef, commitStatements } from '../../lambdas/core/refresh-sql.js';

/**
 * Parity of the two unpack paths: the engine's statements (DuckDB) on the requests they take,
 * plus the JavaScript unpacker on the rest, write exactly the rows the JavaScript unpacker
 * writes alone, after the commit's casts.
 */

const IRIS: Signature = {
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, type: 'double' as const })),
  outputs: [{ type: 'long' }],
};
const MIXED: Signature = {
  inputs: [
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'long' },
    { name: 'Country Code', type: 'string' },
    { name: 'is_new', type: 'boolean' },
  ],
  outputs: [{ type: 'double' }],
};
const LABELS: Signature = { inputs: [{ name: 'text', type: 'string' }], outputs: [{ type: 'string' }] };

let n = 0;
function row(format: string | null, request: string | null, response: string | null, status = 200): CapturedRow & { request_format: string | null } {
  n++;
  return {
    request_id: `r${String(n).padStart(4, '0')}`,
    client_request_id: n % 3 === 0 ? `c${n}` : null,
    timestamp_ms: Date.UTC(2026, 10, 30, n % 24, n % 60) + n,
    status_code: status,
    request,
    response,
    request_metadata: { model_name: 'm', model_version: String(1 + (n % 2)) },
    date: '2026-11-30',
    request_format: format,
  };
}
const j = JSON.stringify;

/** Requests of every shape: clean ones the engine takes, and each thing it must leave. */
function irisCorpus() {
  const cols = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
  const v = [5.1, 3.5, 1.4, 0.2];
  const preds = (k: number) => j({ predictions: Array.from({ length: k }, (_, i) => i % 3) });
  return [
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v, [6, 3, 4.5, 1.5]] } }), preds(2)),
    row('dataframe_split', j({ dataframe_split: { columns: [...cols].reverse(), data: [v] }, client_request_id: 'x' }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { index: [7], columns: cols, data: [[1, 2, 3, null]] } }), j([2])),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [] } }), preds(0)),
    row('dataframe_split', j({ dataframe_split: { columns: [0, 1, 2, 3], data: [v] } }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { columns: [...cols.slice(0, 3), 'extra'], data: [v] } }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { data: [v] } }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [[5.1, 'x', 1, 1]] } }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), preds(2)),
    row('dataframe_split', '{"dataframe_split": {"columns": ["sepal_length","sepal_width","petal_length","petal_width"], "data": [[1e400, -0, 0.30000000000000004, 1E2]]}}', preds(1)),
    row('dataframe_split', '{"dataframe_split": {"columns": ["sepal_length","sepal_width","petal_length","petal_width"], "data": [[-0.0, 1.50, 2e-3, 7]]}}', '{"predictions": [1.0]}'),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [[[1], 2, 3, 4]] } }), preds(1)),
    row('dataframe_records', j({ dataframe_records: [Object.fromEntries(cols.map((c, i) => [c, v[i]])), { petal_width: 1, petal_length: 2, sepal_width: 3, sepal_length: 4 }] }), preds(2)),
    row('dataframe_records', j({ dataframe_records: [{ sepal_length: 1, sepal_width: 2, petal_length: 3 }] }), preds(1)),
    row('dataframe_records', j({ dataframe_records: [{ sepal_length: 1, sepal_width: 2, petal_length: 3, petal_width: null }] }), preds(1)),
    row('dataframe_records', j({ dataframe_records: [] }), preds(0)),
    row('instances', j({ instances: [v, [1, 2, 3, 4]] }), preds(2)),
    row('instances', j({ instances: [Object.fromEntries(cols.map((c, i) => [c, v[i]]))] }), preds(1)),
    row('instances', j({ instances: [[1, 2, 3]] }), preds(1)),
    row('instances', j({ instances: [1, 2] }), preds(2)),
    row('instances', j({ instances: [] }), preds(0)),
    row('inputs', j({ inputs: Object.fromEntries(cols.map((c, i) => [c, [v[i], i]])) }), preds(2)),
    row('inputs', j({ inputs: Object.fromEntries(cols.map((c, i) => [c, v[i]])) }), preds(1)),
    row('inputs', j({ inputs: [v] }), preds(1)),
    row('inputs', j({ inputs: Object.fromEntries(cols.map((c) => [c, []])) }), preds(0)),
    // Answers the engine leaves: probabilities, objects, columns, counts that differ, not JSON.
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ predictions: [[0.1, 0.9]] })),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ predictions: [{ label: 1, probability: [0.2, 0.8] }] })),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ predictions: { out: [1] } })),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ predictions: ['setosa'] })),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), '{"predictions": [9007199254740993]}'),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), 'not json'),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ error: 'x' })),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), j({ predictions: [1] }), 500),
    row('dataframe_split', null, j({ predictions: [1] })),
    // Never written by the proxy, but a file may hold anything: the engine must not fail on it.
    row('dataframe_split', 'not json at all', preds(1)),
    row('inputs', '{"inputs": ', preds(1)),
    row('dataframe_records', j({ dataframe_split: { columns: cols, data: [v] } }), preds(1)),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), ' {"predictions": [1]}'),
    row('dataframe_split', j({ dataframe_split: { columns: cols, data: [v] } }), null),
    // CSV: what JavaScript's Number reads as the engine does, and everything else.
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n', preds(1)),
    row('csv', 'petal_width,sepal_length,petal_length,sepal_width\n1.5,+2,.3,4.\n-0,1e2,00012,1E-05', preds(2)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n', preds(0)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\r\n1,2,3,4\r\n', preds(1)),
    row('csv', '"sepal_length",sepal_width,petal_length,petal_width\n1,2,3,4\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,,3,4\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,1e400\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,0x10\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3, 4\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n\n5,6,7,8\n', preds(2)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4,5\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length\n1,2,3\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n5,6,7,8\n', preds(1)),
    row('csv', 'sepal_length,sepal_width,petal_length,petal_width\n1,2,3,Infinity\n', preds(1)),
    // Files of releases without the column.
    row(null, j({ dataframe_split: { columns: cols, data: [v] } }), preds(1)),
  ];
}

function mixedCorpus() {
  const cols = ['amount', 'count', 'Country Code', 'is_new'];
  const split = (data: unknown[][]) => j({ dataframe_split: { columns: cols, data } });
  const out = (k: number) => j({ predictions: Array.from({ length: k }, (_, i) => i + 0.25) });
  return [
    row('dataframe_split', split([[1.5, 3, 'FR', true], [2, -7, 'ÄÖ "q"\n\u00e9', false]]), out(2)),
    row('dataframe_split', split([[null, null, null, null]]), j({ predictions: [null] })),
    row('dataframe_split', split([[1, 3.0, 'FR', true]]), out(1)),
    row('dataframe_split', split([[1, 2, 'FR', true]]).replace('[1,2,', '[1,9007199254740993,'), out(1)),
    row('dataframe_split', split([[1, 3, 42, true]]), out(1)),
    row('dataframe_split', split([[1, 3, 'FR', 'yes']]), out(1)),
    row('dataframe_split', split([[1, 3, { a: 1 }, true]]), out(1)),
    row('dataframe_split', '{"dataframe_split": {"columns": ["amount","count","Country Code","is_new"], "data": [[1, 2, "\\ud800", true]]}}', out(1)),
    row('dataframe_split', '{"dataframe_split": {"columns": ["amount","count","Country Code","is_new"], "data": [[1, 2, "\\u00e9\\t\\"", true]]}}', j({ predictions: [1e21, 2] }).replace('2]', '2.5e-7]').replace('[1e+21,', '[1e21,')),
    row('dataframe_records', j({ dataframe_records: [{ is_new: false, 'Country Code': 'DE', count: 0, amount: -3.25 }] }), j([7])),
    row('inputs', j({ inputs: { amount: [1], count: [2], 'Country Code': ['x'], is_new: [true] } }), j({ predictions: ['0.5'] })),
  ];
}

function labelsCorpus() {
  return [
    row('instances', j({ instances: [['hello'], ['wörld']] }), j({ predictions: ['pos', 'neg'] })),
    row('inputs', j({ inputs: { text: ['a', 'b'] } }), j({ predictions: ['x', null] })),
    row('dataframe_records', j({ dataframe_records: [{ text: 'a' }] }), j({ predictions: [true] })),
    row('dataframe_records', j({ dataframe_records: [{ text: 'a' }] }), j({ predictions: [1] })),
  ];
}

let dir: string;
let db: DuckDBInstance;
let con: DuckDBConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-unpack-sql-'));
  db = await DuckDBInstance.create(':memory:');
  con = await db.connect();
});
afterAll(async () => {
  con.closeSync();
  db.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const rowsOf = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];

/** The payload rows as a table with the payload file's types. */
async function payloadTable(name: string, rows: readonly ReturnType<typeof row>[]): Promise<string> {
  const file = join(dir, `${name}.jsonl`);
  await writeFile(file, rows.map((r) => j({ ...r, timestamp_ms: Number(r.timestamp_ms) })).join('\n'));
  await con.run(`CREATE OR REPLACE TABLE ${name} AS SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {
    request_id: 'VARCHAR', client_request_id: 'VARCHAR', timestamp_ms: 'BIGINT', status_code: 'INTEGER', request: 'VARCHAR', response: 'VARCHAR',
    request_metadata: 'MAP(VARCHAR, VARCHAR)', "date": 'VARCHAR', request_format: 'VARCHAR'})`);
  return name;
}

/** Staged JavaScript rows read with the commit's types and casts, as the MERGE would insert them. */
async function committed(name: string, lines: readonly string[], sql: SqlUnpack): Promise<string> {
  const file = join(dir, `${name}.jsonl`);
  await writeFile(file, lines.join('\n'));
  const types = sql.features.map((f) => `${JSON.stringify(f.column)}: '${f.type}'`).join(', ');
  await con.run(`CREATE OR REPLACE TABLE ${name} AS SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {
    request_id: 'VARCHAR', client_request_id: 'VARCHAR', row_index: 'INTEGER', timestamp_ms: 'BIGINT', "date": 'VARCHAR', model_name: 'VARCHAR',
    model_version: 'VARCHAR', ${types}, prediction: 'VARCHAR', probabilities: 'DOUBLE[]'})`);
  return name;
}

const cast = (sql: SqlUnpack, table: string) =>
  `SELECT request_id, client_request_id, row_index, timestamp_ms, "date", model_name, model_version, ${sql.features.map((f) => `TRY_CAST("${f.column}" AS ${f.type}) AS "${f.column}"`).join(', ')}, TRY_CAST(prediction AS ${sql.outcome}) AS prediction, probabilities FROM ${table}`;

async function parity(signature: Signature, corpus: ReturnType<typeof row>[], tag: string) {
  const sql = sqlUnpackOf(signature, 'duckdb') as SqlUnpack;
  const source = await payloadTable(`payload_${tag}`, corpus);
  // The JavaScript unpacker alone, on every row.
  const alone = unpackCapturedRows(corpus, signature);
  await committed(`js_${tag}`, alone.predictions, sql);
  // The engine on the rows it takes; the JavaScript unpacker on its leftovers and on the rest.
  const table = { sql: `engine_${tag}`, location: '' };
  for (const statement of engineTableStatements('duckdb', sql, source, table)) await con.run(statement);
  await con.run(`CREATE OR REPLACE TABLE sql_${tag} AS SELECT * FROM engine_${tag} WHERE clean AND row_index IS NOT NULL`);
  const leftovers = (await rowsOf(engineLeftoversSql(table))).map(
    (r) => ({ ...r, request_metadata: { model_name: r.model_name, model_version: r.model_version } }) as unknown as CapturedRow,
  );
  const rest = corpus.filter((r) => !takenBySql(sql, r.status_code, r.request_format));
  const js = unpackCapturedRows([...rest, ...leftovers], signature);
  await committed(`left_${tag}`, js.predictions, sql);
  const both = `(${cast(sql, `sql_${tag}`)} UNION ALL ${cast(sql, `left_${tag}`)})`;
  const missing = await rowsOf(`${cast(sql, `js_${tag}`)} EXCEPT ALL SELECT * FROM ${both}`);
  const extra = await rowsOf(`SELECT * FROM ${both} EXCEPT ALL ${cast(sql, `js_${tag}`)}`);
  const groups = await rowsOf(engineSummarySql('duckdb', table));
  const summary = {
    requests: groups.reduce((a, g) => a + Number(g.requests), 0),
    predictions: groups.reduce((a, g) => a + Number(g.predictions), 0),
    dates: [...new Set(groups.filter((g) => g.date !== null).map((g) => g.date))],
    hours: groups.filter((g) => g.hour !== null).map((g) => Number(g.hour)),
  };
  return { alone, js, missing, extra, summary, engine: (await rowsOf(`SELECT count(*) AS n FROM sql_${tag}`))[0]?.n, leftovers: leftovers.length };
}

describe('the unpack in SQL', () => {
  it('writes, with the JavaScript unpacker on what it leaves, exactly the rows of the JavaScript unpacker alone (iris)', async () => {
    const p = await parity(IRIS, irisCorpus(), 'iris');
    expect(p.missing).toEqual([]);
    expect(p.extra).toEqual([]);
    // The engine took the clean requests; the rest kept their reasons and counts.
    expect(Number(p.engine)).toBe(16);
    expect(p.leftovers).toBeGreaterThanOrEqual(15);
    expect(p.js.rejects.map((r) => r.reason).sort()).toEqual(p.alone.rejects.map((r) => r.reason).sort());
    expect(p.js.summary.disagreements).toEqual(p.alone.summary.disagreements);
    expect(Number(p.summary.requests) + p.js.summary.requests).toBe(p.alone.summary.requests);
    expect(Number(p.summary.predictions) + p.js.summary.predictions).toBe(p.alone.summary.predictions);
  });

  it('keeps every declared type exact: doubles, integers JavaScript holds, text with escapes, booleans, nulls', async () => {
    const p = await parity(MIXED, mixedCorpus(), 'mixed');
    expect(p.missing).toEqual([]);
    expect(p.extra).toEqual([]);
    expect(Number(p.engine)).toBeGreaterThanOrEqual(5);
    expect(p.js.rejects.map((r) => r.reason).sort()).toEqual(p.alone.rejects.map((r) => r.reason).sort());
  });

  it('leaves predictions of another type than the declared one to the JavaScript unpacker', async () => {
    const p = await parity(LABELS, labelsCorpus(), 'labels');
    expect(p.missing).toEqual([]);
    expect(p.extra).toEqual([]);
    expect(p.js.rejects.map((r) => r.reason).sort()).toEqual(p.alone.rejects.map((r) => r.reason).sort());
  });

  it('reports what it unpacked: requests, predictions, their dates and hours', async () => {
    const p = await parity(IRIS, irisCorpus(), 'iris2');
    const dates = p.summary.dates as string[];
    expect(dates).toEqual(['2026-11-30']);
    expect((p.summary.hours as number[]).every((h) => Number(h) % 3_600_000 === 0)).toBe(true);
  });

  it('numbers Parquet rows by file and row, each copy of a record delivered twice apart, with the same rows as a numbering window', async () => {
    const sql = sqlUnpackOf(IRIS, 'duckdb') as SqlUnpack;
    const corpus = irisCorpus();
    await payloadTable('payload_files', corpus);
    // Two files, the second holding the first's rows again (a record delivered twice).
    const files = [join(dir, 'a.parquet'), join(dir, 'b.parquet')];
    for (const f of files) await con.run(`COPY payload_files TO '${f}' (FORMAT parquet)`);
    const parquet = `read_parquet(['${files[0]}', '${files[1]}'])`;
    const union = '(SELECT * FROM payload_files UNION ALL SELECT * FROM payload_files)';
    for (const statement of engineTableStatements('duckdb', sql, parquet, { sql: 'engine_files', location: '' }, PARQUET_ROW_ID)) await con.run(statement);
    for (const statement of engineTableStatements('duckdb', sql, union, { sql: 'engine_window', location: '' })) await con.run(statement);
    const [counts] = await rowsOf(
      `SELECT (SELECT count(DISTINCT payload_row) FROM engine_files) AS files, (SELECT count(DISTINCT payload_row) FROM engine_window) AS window,
        (SELECT count(*) FROM (SELECT * EXCLUDE (payload_row) FROM engine_files EXCEPT ALL SELECT * EXCLUDE (payload_row) FROM engine_window)) AS extra,
        (SELECT count(*) FROM (SELECT * EXCLUDE (payload_row) FROM engine_window EXCEPT ALL SELECT * EXCLUDE (payload_row) FROM engine_files)) AS missing`,
    );
    expect(Number(counts?.files)).toBe(Number(counts?.window));
    expect(Number(counts?.files)).toBeGreaterThan(2 * 16);
    expect([Number(counts?.extra), Number(counts?.missing)]).toEqual([0, 0]);
  });

  it('merges each prediction once, whatever copies of a record its tables hold: within a group of files and across groups', async () => {
    const sql = sqlUnpackOf(IRIS, 'duckdb') as SqlUnpack;
    await payloadTable('payload_copies', irisCorpus());
    const files = [join(dir, 'copies-a.parquet'), join(dir, 'copies-b.parquet')];
    for (const f of files) await con.run(`COPY payload_copies TO '${f}' (FORMAT parquet)`);
    const ref = (name: string) => ({ sql: `"${name}"`, location: `${join(dir, name)}/` });
    const tables: TableRef[] = [ref('copies_engine_0'), ref('copies_engine_1')];
    // The first group holds every record twice; the second a third copy (a file delivered again, in another group).
    const groups = [`read_parquet(['${files[0]}', '${files[1]}'])`, `read_parquet(['${files[1]}'])`];
    for (const [table, group] of tables.map((t, i) => [t, groups[i] as string] as const)) {
      for (const statement of engineTableStatements('duckdb', sql, group, table, PARQUET_ROW_ID)) await con.run(statement);
    }
    const staged = [ref('copies_staged'), ref('copies_staged_rejects')];
    for (const t of staged) {
      await mkdir(t.location, { recursive: true });
      await writeFile(join(t.location, 'empty.jsonl.gz'), gzipSync(''));
    }
    await con.run('CREATE TABLE copies_labels (client_request_id VARCHAR, row_index INTEGER, label VARCHAR, labeled_at TIMESTAMP, uploaded_at TIMESTAMP)');
    const plan: CommitPlan = {
      dialect: 'duckdb',
      runId: 'r1',
      startedAt: new Date(Date.UTC(2026, 11, 1)),
      unpacked: ref('copies_unpacked'),
      errors: ref('copies_errors'),
      recompute: ref('copies_recompute'),
      labels: ref('copies_labels'),
      stagedPredictions: staged[0] as TableRef,
      stagedRejects: staged[1] as TableRef,
      columns: sql.features,
      stagedTypes: Object.fromEntries(sql.features.map((f) => [f.column, f.type])),
      predictionType: 'BIGINT',
      newColumns: [],
      createTables: true,
      dates: ['2026-11-30'],
      labelsAfter: new Date(0),
      dateRange: null,
      engineTables: tables,
    };
    for (const statement of commitStatements(plan)) await con.run(statement);
    const [merged] = await rowsOf('SELECT count(*) AS n, count(DISTINCT (request_id, row_index)) AS keys FROM copies_unpacked');
    // One copy's rows: what the engine takes of the corpus (see the parity test).
    expect([Number(merged?.n), Number(merged?.keys)]).toEqual([16, 16]);
  });

  it('takes no endpoint whose signature leaves types to the data', () => {
    expect(sqlUnpackOf(undefined, 'duckdb')).toBeNull();
    expect(sqlUnpackOf({ inputs: IRIS.inputs }, 'duckdb')).toBeNull();
    expect(sqlUnpackOf({ inputs: [{ name: 'a"b', type: 'double' }], outputs: [{ type: 'long' }] }, 'duckdb')).toBeNull();
    expect(takenBySql(sqlUnpackOf(IRIS, 'duckdb'), 200, 'csv')).toBe(true);
    // CSV cells are numbers or text by JavaScript's rules: only all-double rows, and not (yet) in Athena.
    expect(takenBySql(sqlUnpackOf(IRIS, 'athena'), 200, 'csv')).toBe(false);
    expect(takenBySql(sqlUnpackOf(MIXED, 'duckdb'), 200, 'csv')).toBe(false);
    expect(takenBySql(sqlUnpackOf(IRIS, 'duckdb'), 404, 'inputs')).toBe(false);
    expect(takenBySql(sqlUnpackOf(IRIS, 'duckdb'), 201, 'inputs')).toBe(true);
  });
});

describe('the Athena texts of the unpack in the engine', () => {
  const sql = sqlUnpackOf(MIXED, 'athena') as SqlUnpack;
  const source = `(SELECT * FROM "inference_tables_dev"."shop_payload" WHERE "date" IN ('2026-11-30') AND "$path" IN ('s3://bucket/shop_payload/endpoint=shop/date=2026-11-30/f.parquet'))`;
  const table = { sql: '"inference_tables_dev"."shop_unpacked_engine_r1_0"', location: 's3://bucket/_refresh/runs/r1/shop/engine/u1/' };
  const statements = engineTableStatements('athena', sql, source, table);
  const text = statements[1] as string;

  it('use Trino functions only, none of DuckDB', () => {
    for (const duckdb of ['json_valid', 'json_transform', 'list_', 'regexp_full_match', 'isfinite(', '::', 'MATERIALIZED', 'json_keys', 'generate_subscripts', 'range(', 'json_extract_string', 'DOUBLE[]']) {
      expect(text, duckdb).not.toContain(duckdb);
      expect(text).not.toContain('TEMP TABLE');
    }
    for (const trino of ['TRY(json_parse(request))', 'all_match(', 'transform(', 'element_at(', 'CROSS JOIN UNNEST(decl) WITH ORDINALITY AS u(r, n)', 'json_format(', 'is_finite(', 'CAST(NULL AS ARRAY(DOUBLE))', 'sequence(1, ']) {
      expect(text, trino).toContain(trino);
    }
    expect(text).not.toMatch(/undefined|\$\{/);
    expect([...text].filter((c) => c === '(').length).toBe([...text].filter((c) => c === ')').length);
  });

  it('quote what Trino reserves and name members with spaces by bracket paths', () => {
    // "date" is a reserved word; only the quoted identifier or a string literal may name it.
    expect(text.replaceAll('"date"', '').replaceAll(/'[^']*'/g, '')).not.toMatch(/\bdate\b/i);
    expect(text).toContain(`json_extract(rq, '$["dataframe_split"]')`);
    expect(text).toContain(`'$["Country Code"]'`);
    expect(text).toContain('AS "country_code"');
  });

  it('store the rows as Parquet under the run, dropping what an earlier attempt left first', () => {
    expect(statements).toHaveLength(2);
    expect(statements[0]).toBe('DROP TABLE IF EXISTS "inference_tables_dev"."shop_unpacked_engine_r1_0"');
    expect(text.startsWith(`CREATE TABLE "inference_tables_dev"."shop_unpacked_engine_r1_0" WITH (format = 'PARQUET', write_compression = 'ZSTD', external_location = 's3://bucket/_refresh/runs/r1/shop/engine/u1/') AS WITH src AS (`)).toBe(true);
    expect(engineSummarySql('athena', table)).toContain('(timestamp_ms / 3600000) * 3600000');
    expect(engineLeftoversSql(table)).toMatch(/FROM "inference_tables_dev"\."shop_unpacked_engine_r1_0" WHERE NOT clean$/);
  });

  it('merge the engine\'s predictions beside the staged rows, then drop its tables', () => {
    const ref = (name: string) => ({ sql: `"inference_tables_dev"."${name}"`, location: `s3://bucket/${name}/` });
    const engine = ref('shop_unpacked_engine_r1_0');
    const later = ref('shop_unpacked_engine_r1_1');
    const statements = commitStatements({
      dialect: 'athena',
      runId: 'r1',
      startedAt: new Date(Date.UTC(2026, 10, 30)),
      unpacked: ref('shop_unpacked'),
      errors: ref('shop_unpack_errors'),
      recompute: ref('shop_recompute_windows'),
      labels: ref('shop_labels'),
      stagedPredictions: ref('shop_unpacked_staged_r1'),
      stagedRejects: ref('shop_unpack_errors_staged_r1'),
      columns: sql.features,
      stagedTypes: Object.fromEntries(sql.features.map((f) => [f.column, f.type])),
      predictionType: 'DOUBLE',
      newColumns: [],
      createTables: false,
      dates: ['2026-11-30'],
      labelsAfter: new Date(0),
      dateRange: null,
      engineTables: [engine, later],
    });
    const merge = statements.find((t) => t.startsWith('MERGE INTO "inference_tables_dev"."shop_unpacked"')) as string;
    const columns = '"request_id", "client_request_id", "row_index", "timestamp_ms", "date", "model_name", "model_version", "amount", "count", "country_code", "is_new", "prediction", "probabilities"';
    // One copy of each request: the first of its table, none an earlier table holds; the staged rows keep their window.
    const firsts = (t: TableRef) => `payload_row IN (SELECT min_by(payload_row, timestamp_ms) FROM ${t.sql} WHERE clean GROUP BY request_id)`;
    expect(merge).toContain(`UNION ALL SELECT ${columns}, 1 AS rn FROM ${engine.sql} e WHERE clean AND row_index IS NOT NULL AND ${firsts(engine)}\n`);
    expect(merge).toContain(`UNION ALL SELECT ${columns}, 1 AS rn FROM ${later.sql} e WHERE clean AND row_index IS NOT NULL AND ${firsts(later)} AND NOT EXISTS (SELECT 1 FROM ${engine.sql} r WHERE r.clean AND r.request_id = e.request_id)) s`);
    expect(merge).toContain(`FROM (SELECT ${columns}, row_number() OVER (PARTITION BY request_id, row_index ORDER BY timestamp_ms) AS rn FROM "inference_tables_dev"."shop_unpacked_staged_r1"`);
    expect(statements.slice(-2)).toEqual([`DROP TABLE IF EXISTS ${engine.sql}`, `DROP TABLE IF EXISTS ${later.sql}`]);
  });
});
