import { describe, expect, it } from 'vitest';
import { parseStatement } from '../../lambdas/core/athena-sql/parse.js';
import { type CommitPlan, commitStatements, labelChecksSql, labelRejectStatements, refusedLabelsSql } from '../../lambdas/core/refresh-sql.js';
import { type MetricsTables, metricsStatements } from '../../lambdas/core/metrics-sql.js';
import { maintenanceStatements } from '../../lambdas/core/maintenance-sql.js';
import { type SqlUnpack, engineLeftoversSql, engineSummarySql, engineTableStatements, sqlUnpackOf } from '../../lambdas/core/unpack-sql.js';
import { environmentQueries, namedQueries } from '../../lambdas/core/named-queries.js';
import { usageViewQuery } from '../../lambdas/core/usage-view.js';
import { servedEntitiesViewQuery } from '../../lambdas/core/served-entities.js';
import type { Signature } from '../../lambdas/core/unpacked-schema.js';

/**
 * Every statement the refresh sends to Athena, and every query the stack saves there, is read
 * by Trino's own grammar here, so a text that would fail in Athena fails this test instead of
 * a deployed refresh. Athena runs its table DDL (Iceberg and Hive tables, OPTIMIZE, VACUUM) as
 * Hive DDL, which Trino's grammar does not cover: those are recognised and counted apart.
 */
const HIVE_DDL = /^(CREATE (EXTERNAL )?TABLE (IF NOT EXISTS )?\S+ \(|ALTER TABLE \S+ ADD COLUMNS|OPTIMIZE |VACUUM |DROP TABLE )/;

const ref = (name: string, folder = name) => ({ sql: `"inference_tables_dev"."${name}"`, location: `s3://bucket/${folder}/` });
const plan: CommitPlan = {
  dialect: 'athena',
  runId: 'run-1',
  startedAt: new Date(Date.UTC(2026, 11, 1)),
  unpacked: ref('iris_unpacked'),
  errors: ref('iris_unpack_errors'),
  recompute: ref('iris_recompute_windows'),
  labels: ref('iris_labels'),
  stagedPredictions: ref('iris_unpacked_staged_run_1', '_refresh/runs/run-1/iris/predictions'),
  stagedRejects: ref('iris_unpack_errors_staged_run_1', '_refresh/runs/run-1/iris/rejects'),
  columns: [{ feature: 'x', column: 'x', type: 'DOUBLE' }, { feature: 'Country Code', column: 'country_code', type: 'VARCHAR' }],
  stagedTypes: { x: 'DOUBLE', country_code: 'VARCHAR' },
  predictionType: 'BIGINT',
  newColumns: [{ feature: 'y', column: 'y', type: 'BIGINT' }],
  createTables: true,
  dates: ['2026-11-29', '2026-11-30'],
  labelsAfter: new Date(Date.UTC(2026, 10, 1)),
  dateRange: null,
};
const metricsTables: MetricsTables = {
  profile: ref('iris_profile_metrics'),
  drift: ref('iris_drift_metrics'),
  alerts: ref('iris_alerts'),
  staged: { profile: ref('p_staged'), drift: ref('d_staged'), alerts: ref('a_staged') },
};
const SIGNATURE: Signature = {
  inputs: [
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'long' },
    { name: 'Country Code', type: 'string' },
    { name: 'is_new', type: 'boolean' },
  ],
  outputs: [{ type: 'double' }],
};
const labelPlan = { labels: ref('iris_labels'), unpacked: ref('iris_unpacked'), predictionType: 'BIGINT' };
const unpack = sqlUnpackOf(SIGNATURE, 'athena') as SqlUnpack;
const engineTable = ref('shop_unpacked_engine_r1_0', '_refresh/runs/r1/shop/engine/u1');
const source = `(SELECT * FROM "inference_tables_dev"."shop_payload" WHERE "date" IN ('2026-11-30') AND "$path" IN ('s3://bucket/shop_payload/endpoint=shop/date=2026-11-30/f.parquet'))`;

const statements: [string, string][] = [
  ...commitStatements(plan).map((s, i) => [`commit ${i}`, s] as [string, string]),
  ...commitStatements({ ...plan, createTables: false, dateRange: { first: '2026-11-01', last: '2026-11-30' } }).map((s, i) => [`commit (recompute) ${i}`, s] as [string, string]),
  ['label checks', labelChecksSql(labelPlan)],
  ['refused labels', refusedLabelsSql(labelPlan)],
  ...labelRejectStatements('athena', { ...labelPlan, rejects: ref('iris_label_rejects'), runId: 'run-1', checkedAt: new Date(Date.UTC(2026, 11, 1)) }).map((s, i) => [`label rejects ${i}`, s] as [string, string]),
  ...metricsStatements('athena', metricsTables, 'run-1', '2026-11-22 10:00:00').map((s, i) => [`metrics ${i}`, s] as [string, string]),
  ...maintenanceStatements('athena', [{ table: ref('iris_unpacked'), column: 'date', type: 'DATE', keepDays: 30 }], '2026-11-30').map((s, i) => [`maintenance ${i}`, s] as [string, string]),
  ...engineTableStatements('athena', unpack, source, engineTable).map((s, i) => [`engine unpack ${i}`, s] as [string, string]),
  ['engine summary', engineSummarySql('athena', engineTable)],
  ['engine leftovers', engineLeftoversSql(engineTable)],
  ['usage view', usageViewQuery(['"iris_payload"', '"chat_payload"'])],
  ['served entities view', servedEntitiesViewQuery('"served_entities_history"')],
  ...[...environmentQueries(), ...namedQueries('iris')].map((q) => [`saved query: ${q.name}`, q.sql] as [string, string]),
];

describe("the refresh's Athena statements", () => {
  it.each(statements.filter(([, sql]) => !HIVE_DDL.test(sql)))('%s parses with Trino’s grammar', (_name, sql) => {
    expect(() => parseStatement(sql)).not.toThrow();
  });

  it('are mostly Trino SQL, the rest Hive DDL Athena runs itself', () => {
    const hive = statements.filter(([, sql]) => HIVE_DDL.test(sql));
    expect(statements.length - hive.length).toBeGreaterThan(20);
    for (const [, sql] of hive) expect(sql).toMatch(/^(CREATE|ALTER|OPTIMIZE|VACUUM|DROP)/);
  });
});
