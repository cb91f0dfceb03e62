import { describe, expect, it } from 'vitest';
import { DRIFT_COLUMNS, PROFILE_COLUMNS, type MetricsTables, metricsStatements, renderType } from '../../lambdas/core/metrics-sql.js';

const ref = (name: string) => ({ sql: `"db"."${name}"`, location: `s3://bucket/${name}/` });
const tables: MetricsTables = {
  profile: ref('iris_profile_metrics'),
  drift: ref('iris_drift_metrics'),
  alerts: ref('iris_alerts'),
  staged: { profile: ref('p_staged'), drift: ref('d_staged'), alerts: ref('a_staged') },
};

describe('metrics SQL', () => {
  it('writes nested types for both engines, quoting struct fields for Athena', () => {
    const cmp = DRIFT_COLUMNS.find(([c]) => c === 'window_cmp')?.[1];
    expect(renderType('duckdb', cmp as never)).toBe('STRUCT("start" TIMESTAMP, "end" TIMESTAMP)');
    expect(renderType('athena', cmp as never)).toBe('struct<`start`:timestamp,`end`:timestamp>');
    expect(renderType('athena', { array: { struct: [['item', 'VARCHAR'], ['count', 'BIGINT']] } })).toBe('array<struct<`item`:string,`count`:bigint>>');
  });

  it('creates Iceberg tables partitioned by granularity and month, then replaces the staged windows', () => {
    const sql = metricsStatements('athena', tables, 'run-1', '2026-11-22 10:00:00');
    expect(sql).toHaveLength(15);
    expect(sql[0]).toMatch(/^CREATE TABLE IF NOT EXISTS "db"."iris_profile_metrics" \(.*`count` bigint.*\) PARTITIONED BY \(granularity, month\(window_start\)\) LOCATION 's3:\/\/bucket\/iris_profile_metrics\/' TBLPROPERTIES \('table_type'='ICEBERG'/);
    expect(sql[1]).toMatch(/^CREATE EXTERNAL TABLE IF NOT EXISTS "db"."p_staged" .* ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'/);
    expect(sql[2]).toMatch(/^DELETE FROM "db"."iris_profile_metrics" WHERE .* IN \(SELECT DISTINCT .* FROM "db"."p_staged"\)/);
    expect(sql[3]).toMatch(/^INSERT INTO "db"."iris_profile_metrics" .* TIMESTAMP '2026-11-22 10:00:00', 'run-1' FROM "db"."p_staged" s$/);
    expect(sql[4]).toBe('DROP TABLE IF EXISTS "db"."p_staged"');
    // The staging table has no run columns; the insert adds them.
    expect(sql[1]).not.toMatch(/run_id/);
  });

  it('reads staged rows with read_json on the embedded engine', () => {
    const sql = metricsStatements('duckdb', tables, 'run-1', '2026-11-22 10:00:00');
    expect(sql[1]).toMatch(/^CREATE OR REPLACE VIEW "db"."p_staged" AS SELECT \* FROM read_json\('s3:\/\/bucket\/p_staged\/\*\.jsonl\.gz', format = 'newline_delimited'/);
    expect(sql[4]).toBe('DROP VIEW IF EXISTS "db"."p_staged"');
  });

  it('adds to a table of an earlier release the columns added since, and nothing to a table that has them', () => {
    const all = new Set(PROFILE_COLUMNS.map(([c]) => c));
    const older = new Set([...all].filter((c) => c !== 'partial_reason' && c !== 'latency_p99_ms'));
    const athena = metricsStatements('athena', tables, 'run-1', '2026-11-22 10:00:00', { profile: older, drift: new Set(DRIFT_COLUMNS.map(([c]) => c)) });
    expect(athena.filter((q) => q.startsWith('ALTER'))).toEqual(['ALTER TABLE "db"."iris_profile_metrics" ADD COLUMNS (`latency_p99_ms` double, `partial_reason` string)']);
    // Created after the CREATE IF NOT EXISTS, before the rows go in.
    expect(athena.findIndex((q) => q.startsWith('ALTER'))).toBe(1);
    const duckdb = metricsStatements('duckdb', tables, 'run-1', '2026-11-22 10:00:00', { profile: older });
    expect(duckdb.filter((q) => q.startsWith('ALTER'))).toEqual([
      'ALTER TABLE "db"."iris_profile_metrics" ADD COLUMN IF NOT EXISTS "latency_p99_ms" DOUBLE',
      'ALTER TABLE "db"."iris_profile_metrics" ADD COLUMN IF NOT EXISTS "partial_reason" VARCHAR',
    ]);
    expect(metricsStatements('athena', tables, 'run-1', '2026-11-22 10:00:00', { profile: all }).some((q) => q.startsWith('ALTER'))).toBe(false);
  });
});
