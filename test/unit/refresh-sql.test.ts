import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { openWarehouse } from '../../lambdas/adapters/local/warehouse.js';
import { type CommitPlan, type Dialect, MAX_PARTITIONS_PER_STATEMENT, commitStatements, dayRanges, literal } from '../../lambdas/core/refresh-sql.js';
import { gzipSync } from 'node:zlib';

const DAY = 86_400_000;
const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * DAY).toISOString().slice(0, 10);

function plan(dialect: Dialect, root: string, more: Partial<CommitPlan> = {}): CommitPlan {
  const ref = (name: string, folder = name) => ({ sql: dialect === 'athena' ? `"inference_tables_dev"."${name}"` : `"${name}"`, location: `${root}/${folder}/` });
  return {
    dialect,
    runId: 'run-1',
    startedAt: new Date(Date.UTC(2026, 11, 1)),
    unpacked: ref('iris_unpacked'),
    errors: ref('iris_unpack_errors'),
    recompute: ref('iris_recompute_windows'),
    labels: ref('iris_labels'),
    stagedPredictions: ref('iris_unpacked_staged_run_1', '_refresh/runs/run-1/iris/predictions'),
    stagedRejects: ref('iris_unpack_errors_staged_run_1', '_refresh/runs/run-1/iris/rejects'),
    columns: [{ feature: 'x', column: 'x', type: 'DOUBLE' }],
    stagedTypes: { x: 'DOUBLE' },
    predictionType: 'BIGINT',
    newColumns: [],
    createTables: true,
    dates: [],
    labelsAfter: new Date(0),
    dateRange: null,
    ...more,
  };
}

/** The date literals a statement names. */
const datesIn = (sql: string) => [...sql.matchAll(/'(\d{4}-\d{2}-\d{2})'/g)].map((m) => m[1]);

describe('dayRanges', () => {
  it('covers the days in consecutive ranges of at most 100 days', () => {
    const ranges = dayRanges(day(0), day(249));
    expect(ranges).toEqual([
      { from: day(0), to: day(99) },
      { from: day(100), to: day(199) },
      { from: day(200), to: day(249) },
    ]);
  });

  it('gives one range for one day, and counts a leap day', () => {
    expect(dayRanges('2026-03-04', '2026-03-04')).toEqual([{ from: '2026-03-04', to: '2026-03-04' }]);
    expect(dayRanges('2028-02-01', '2028-05-10', 30).map((r) => r.to)).toEqual(['2028-03-01', '2028-03-31', '2028-04-30', '2028-05-10']);
  });
});

describe('commitStatements', () => {
  it('writes at most 100 partitions per MERGE, and every staged date once', () => {
    const dates = Array.from({ length: 250 }, (_, i) => day(i));
    const statements = commitStatements(plan('athena', 's3://bucket', { dates }));
    const merges = statements.filter((s) => s.startsWith('MERGE INTO "inference_tables_dev"."iris_unpacked"'));
    expect(merges).toHaveLength(3);
    for (const m of merges) expect(new Set(datesIn(m)).size).toBeLessThanOrEqual(MAX_PARTITIONS_PER_STATEMENT);
    expect(merges.flatMap(datesIn).sort()).toEqual(dates);
  });

  it('creates Iceberg tables partitioned by day on Athena, and reads staged rows through a JSON table it drops at the end', () => {
    const statements = commitStatements(plan('athena', 's3://bucket', { dates: [day(0)] }));
    expect(statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "inference_tables_dev"."iris_unpacked" \(.*`x` double.*\) PARTITIONED BY \(day\(`timestamp`\)\) LOCATION 's3:\/\/bucket\/iris_unpacked\/' TBLPROPERTIES \('table_type'='ICEBERG'/);
    const staging = statements.find((s) => s.startsWith('CREATE EXTERNAL TABLE'));
    expect(staging).toContain("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://bucket/_refresh/runs/run-1/iris/predictions/'");
    expect(statements.slice(-2)).toEqual(['DROP TABLE IF EXISTS "inference_tables_dev"."iris_unpacked_staged_run_1"', 'DROP TABLE IF EXISTS "inference_tables_dev"."iris_unpack_errors_staged_run_1"']);
  });

  it('only inserts rows it does not have, and only updates labels that changed', () => {
    const statements = commitStatements(plan('athena', 's3://bucket', { dates: [day(0)], dateRange: { first: day(0), last: day(0) } }));
    const merges = statements.filter((s) => s.startsWith('MERGE'));
    expect(merges.filter((s) => s.includes('WHEN NOT MATCHED THEN INSERT'))).toHaveLength(2);
    const attach = merges.find((s) => s.includes('UPDATE SET'));
    expect(attach).toMatch(/WHEN MATCHED AND \(t\.label IS DISTINCT FROM .* OR t\.labeled_at IS DISTINCT FROM l\.labeled_at\)/);
  });

  it('with nothing captured, only looks for new labels, 100 days at a time', () => {
    const statements = commitStatements(plan('athena', 's3://bucket', { createTables: false, dateRange: { first: day(0), last: day(150) } }));
    expect(statements.map((s) => s.split(/\s/)[0])).toEqual(['INSERT', 'MERGE', 'INSERT', 'MERGE']);
  });

  it('adds new feature columns to an existing table', () => {
    const statements = commitStatements(plan('athena', 's3://bucket', { createTables: false, newColumns: [{ feature: 'Colour', column: 'colour', type: 'VARCHAR' }] }));
    expect(statements).toEqual(['ALTER TABLE "inference_tables_dev"."iris_unpacked" ADD COLUMNS (`colour` string)']);
  });

  it('quotes literals', () => {
    expect(literal("it's")).toBe("'it''s'");
  });
});

describe('commitStatements on the embedded engine', () => {
  let dir: string;
  const dates = Array.from({ length: 150 }, (_, i) => day(i));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'it-sql-'));
    const store = new FileObjectStore(dir);
    // One prediction per day, and the first one staged twice (at-least-once delivery).
    const row = (d: string, i: number) => JSON.stringify({ request_id: `r-${i}`, client_request_id: null, timestamp_ms: Date.parse(`${d}T12:00:00Z`), date: d, model_name: 'm', model_version: '1', row_index: 0, x: i, prediction: i % 3, probabilities: null });
    await store.put('_refresh/runs/run-1/iris/predictions/00000.jsonl.gz', gzipSync(`${dates.map(row).join('\n')}\n`));
    await store.put('_refresh/runs/run-1/iris/predictions/00001.jsonl.gz', gzipSync(`${row(dates[0] as string, 0)}\n`));
    await store.put('_refresh/runs/run-1/iris/rejects/00000.jsonl.gz', gzipSync(''));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('merges 150 days of staged rows in two statements, once each, and a second run adds nothing', async () => {
    // In a bounded engine: the refresh's `refresh.local_engine_mib`.
    const warehouse = await openWarehouse(dir, ['iris'], 200);
    const limit = (await warehouse.connection.runAndReadAll(`SELECT current_setting('memory_limit') AS m`)).getRowObjectsJson()[0];
    expect(limit).toEqual({ m: '200.0 MiB' });
    try {
      const statements = commitStatements(plan('duckdb', dir, { dates }));
      expect(statements.filter((s) => s.startsWith('MERGE INTO "iris_unpacked"'))).toHaveLength(2);
      const count = async () => (await warehouse.connection.runAndReadAll('SELECT count(*)::INTEGER AS n, count(DISTINCT "date")::INTEGER AS d FROM iris_unpacked')).getRowObjectsJson()[0];
      for (const s of statements) await warehouse.connection.run(s);
      expect(await count()).toEqual({ n: 150, d: 150 });
      for (const s of commitStatements(plan('duckdb', dir, { dates, createTables: false }))) await warehouse.connection.run(s);
      expect(await count()).toEqual({ n: 150, d: 150 });
    } finally {
      warehouse.connection.closeSync();
      warehouse.instance.closeSync();
    }
  });
});
