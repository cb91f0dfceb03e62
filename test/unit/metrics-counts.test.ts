import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_MACROS, registerAthenaFunctions } from '../../lambdas/adapters/local/athena-functions.js';
import { connectionEngine } from '../../lambdas/adapters/local/query-engine.js';
import { monitoringSchema } from '../../lambdas/core/config/index.js';
import { type CountBatch, type PredictionRow, batchOf, computeMetrics, countsOf } from '../../lambdas/core/monitoring/index.js';
import type { QueryEngine } from '../../lambdas/core/ports.js';
import type { FeatureColumn } from '../../lambdas/core/unpacked-schema.js';
import { countsBetween } from '../../lambdas/workflow/metrics-counts.js';

/**
 * The metrics step reads counts from the engine, not rows: the same windows computed from the
 * engine's counts and from the rows counted in the function give equal rows, for a column with
 * few values (read counted), a continuous one (read as rows), text, nulls, NaN, two models,
 * slices and labels.
 */

const H = 3_600_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');
const N = 12_000;

function rowsOf(regression: boolean): PredictionRow[] {
  return Array.from({ length: N }, (_, i) => {
    const shifted = i >= N / 2;
    const x = i % 17 === 0 ? null : i % 101 === 0 ? Number.NaN : ((i * 7) % 10) / 5 + (shifted ? 4 : 0);
    const cls = i % 3;
    return {
      t: T0 + Math.floor((i / N) * 48) * H + (i % 60) * 1000 + 0.25,
      model_id: i % 4 === 0 ? 'iris/2' : 'iris/1',
      // z: every value distinct, as a continuous feature's.
      values: { x, z: ((i * 0.6180339887498949) % 1) * 10 + (shifted ? 1 : 0), color: i % 23 === 0 ? null : ['red', 'green', shifted ? 'blue' : 'red'][cls] },
      prediction: regression ? (x ?? 0) * 1.1 : i % 5 === 0 ? (cls + 1) % 3 : cls,
      probabilities: regression ? null : [cls === 0 ? 0.8 : 0.1, cls === 1 ? 0.8 : 0.1, cls === 2 ? 0.8 : 0.1],
      label: i % 2 === 0 ? null : regression ? x : cls,
    };
  });
}

const COLUMNS: FeatureColumn[] = [
  { feature: 'x', column: 'x', type: 'DOUBLE' },
  { feature: 'z', column: 'z', type: 'DOUBLE' },
  { feature: 'color', column: 'color', type: 'VARCHAR' },
];
const settings = monitoringSchema.parse({ slices: ['model_version', 'color'], granularities: ['1 hour', '1 day'], drift: { min_samples: 10 } });
const MODELS = ['iris/1', 'iris/2'];

let instance: DuckDBInstance;
let db: DuckDBConnection;
const statements: string[] = [];
let engine: QueryEngine;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  db = await instance.connect();
  await db.run('SET integer_division = true');
  registerAthenaFunctions(db);
  for (const macro of ATHENA_MACROS) await db.run(macro);
  const inner = connectionEngine(db);
  engine = { ...inner, queryColumns: (sql) => (statements.push(sql), inner.queryColumns(sql)) };
});
afterAll(() => {
  db.closeSync();
  instance.closeSync();
});

async function load(table: string, rows: readonly PredictionRow[], regression: boolean): Promise<void> {
  const type = regression ? 'DOUBLE' : 'BIGINT';
  await db.run(`CREATE TABLE ${table}_raw (us BIGINT, model_id VARCHAR, x DOUBLE, z DOUBLE, color VARCHAR, prediction DOUBLE, probabilities VARCHAR, label DOUBLE)`);
  const appender = await db.createAppender(`${table}_raw`);
  const put = (v: unknown) => (v === null || v === undefined ? appender.appendNull() : typeof v === 'number' ? appender.appendDouble(v) : appender.appendVarchar(String(v)));
  for (const r of rows) {
    appender.appendBigInt(BigInt(Math.round(r.t * 1000)));
    for (const v of [r.model_id, r.values.x, r.values.z, r.values.color, r.prediction, r.probabilities ? JSON.stringify(r.probabilities) : null, r.label]) put(v);
    appender.endRow();
  }
  appender.closeSync();
  await db.run(
    `CREATE TABLE ${table} AS SELECT CAST(make_timestamp(us) AS DATE) AS "date", make_timestamp(us) AS "timestamp", model_id, x, z, color, CAST(prediction AS ${type}) AS prediction, CAST(probabilities AS DOUBLE[]) AS probabilities, CAST(label AS ${type}) AS label FROM ${table}_raw`,
  );
}

function metricsOf(counts: CountBatch, regression: boolean) {
  const days = [T0, T0 + 24 * H];
  return computeMetrics({
    settings,
    columns: COLUMNS.map((c) => ({ column: c.column, type: c.type })),
    predictionType: regression ? 'DOUBLE' : 'BIGINT',
    counts,
    windows: new Map([
      ['1 hour', Array.from({ length: 48 }, (_, k) => T0 + k * H)],
      ['1 day', days],
    ]),
    baseline: new Map([['x', Array.from({ length: 200 }, (_, i) => (i % 50) / 5)]]),
    traffic: new Map(),
    now: T0 + 48 * H,
  });
}

describe.each([false, true])('metrics from the engine counts (regression: %s)', (regression) => {
  it('equal the metrics of the same rows counted in the function', async () => {
    const rows = rowsOf(regression);
    const table = regression ? 'unpacked_regression' : 'unpacked_classification';
    await load(table, rows, regression);
    statements.length = 0;
    const fromEngine = await countsBetween(engine, { table, columns: COLUMNS, predictionType: regression ? 'DOUBLE' : 'BIGINT', granularities: settings.granularities, slices: settings.slices, models: MODELS }, T0, T0 + 48 * H);
    const fromRows = countsOf(batchOf(rows, ['x', 'z', 'color']), settings.granularities, settings.slices);
    // x and color are read counted, z as rows.
    expect(fromEngine.columns.get('x')?.cell.length).toBeLessThan(N / 4);
    expect(fromEngine.columns.get('color')?.cell.length).toBeLessThan(N / 4);
    expect(fromEngine.columns.get('z')?.cell.length).toBe(N);
    expect(statements.some((s) => s.includes('count(*) AS n') && s.includes('GROUP BY'))).toBe(true);
    expect(fromEngine.labelled.size).toBe(rows.filter((r) => r.label !== null).length);
    const a = metricsOf(fromEngine, regression);
    const b = metricsOf(fromRows, regression);
    expect(a.profile.length).toBeGreaterThan(100);
    expect(a.drift.length).toBeGreaterThan(100);
    const byKey = <T extends { granularity: string; window_start: string; model_id: string; slice_key: string | null; slice_value: string | null; column_name: string }>(rows: T[]) =>
      [...rows].sort((p, q) => JSON.stringify([p.granularity, p.window_start, p.model_id, p.slice_key, p.slice_value, p.column_name, 'drift_type' in p ? p.drift_type : '']).localeCompare(JSON.stringify([q.granularity, q.window_start, q.model_id, q.slice_key, q.slice_value, q.column_name, 'drift_type' in q ? q.drift_type : ''])));
    expect(byKey(a.profile)).toEqual(byKey(b.profile));
    expect(byKey(a.drift)).toEqual(byKey(b.drift));
    expect(a.alerts).toEqual(b.alerts);
    // Quality was computed on the labelled rows, and slices by color exist.
    const table0 = a.profile.find((p) => p.column_name === ':table' && p.model_id === '*' && p.slice_key === null && p.granularity === '1 day');
    expect(table0?.labeled_count).toBeGreaterThan(0);
    expect(a.profile.some((p) => p.slice_key === 'color' && p.slice_value === 'blue')).toBe(true);
    expect(a.profile.some((p) => p.slice_key === 'model_version' && p.slice_value === '2')).toBe(true);
  });
});

describe('the counts statements', () => {
  it('are Athena SQL: Trino functions only, "date" and "timestamp" quoted, grouped by name', () => {
    expect(statements.length).toBeGreaterThanOrEqual(4);
    for (const sql of statements) {
      expect(sql).not.toMatch(/::|list_|approx_count_distinct|epoch_ms|\bGROUP BY ALL\b/);
      expect(sql).toContain('"date" BETWEEN DATE ');
      expect(sql).not.toMatch(/[^"]\btimestamp\b(?! ')/i);
    }
    expect(statements.some((s) => /approx_distinct\(CAST\("z" AS DOUBLE\)\)/.test(s))).toBe(true);
  });
});

describe("the local engine's columnar read", () => {
  it('reads a DOUBLE column into a typed array, and one with a NULL (past the first chunk) as a list with the NULL in place', async () => {
    const result = await connectionEngine(db).queryColumns(
      `SELECT CAST(i AS DOUBLE) / 4 AS a, CASE WHEN i = 2500 THEN NULL ELSE CAST(i AS DOUBLE) END AS b, CAST(i AS BIGINT) AS c, 'x' || CAST(i AS VARCHAR) AS d FROM UNNEST(sequence(0, 2999)) AS t(i)`,
    );
    const [a, b, c, d] = result.data;
    expect(a).toBeInstanceOf(Float64Array);
    expect([a?.[0], a?.[2999]]).toEqual([0, 749.75]);
    expect(Array.isArray(b)).toBe(true);
    expect([b?.[2499], b?.[2500], b?.[2501], b?.length]).toEqual([2499, null, 2501, 3000]);
    expect([c?.[2999], d?.[2999], c?.length]).toEqual([2999, 'x2999', 3000]);
  });
});
