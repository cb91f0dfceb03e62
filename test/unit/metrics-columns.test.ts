import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatDrift } from '../../lambdas/cli/format.js';
import { monitoringSchema } from '../../lambdas/core/config/index.js';
import { RefreshMetric } from '../../lambdas/core/metric-names.js';
import { ALERT_COLUMNS, DRIFT_COLUMNS, METRICS_TABLE_COLUMNS, type MetricsTables, PROFILE_COLUMNS, metricsColumnsMarkdown, metricsStatements, renderType } from '../../lambdas/core/metrics-sql.js';
import {
  ALERT_KINDS,
  ALERT_ROW_COLUMNS,
  COLUMN_KINDS,
  DRIFT_CELLS,
  DRIFT_ROW_COLUMNS,
  DRIFT_STATISTICS,
  DRIFT_TYPES,
  type MetricsColumn,
  type MetricsOutput,
  NO_STATS,
  PROFILE_ROW_COLUMNS,
  PROFILE_STAT_COLUMNS,
  PUBLISHED_PROFILE_COLUMNS,
  type PredictionRow,
  RUN_COLUMNS,
  VERDICTS,
  alertRowSchema,
  batchOf, countsOf,
  categoricalDrift,
  compareSamples,
  computeMetrics,
  driftRowSchema,
  numericDrift,
  profileRowSchema,
  sqlTypeOf,
  trafficKey,
} from '../../lambdas/core/monitoring/index.js';
import { frequencies } from '../../lambdas/core/stats/drift.js';
import { metricData } from '../../lambdas/workflow/metrics-step.js';
import { ROOT } from '../helpers/config.js';

/**
 * The column registries of the metrics tables and the drift statistics are the one place
 * their columns are declared; everything below is derived from them. These tests fail when a
 * derived list, or the rows the metrics step computes, disagree with a registry.
 */

const names = (columns: readonly MetricsColumn[]) => columns.map((c) => c.name);
const TABLES = [
  { table: 'profile', rows: PROFILE_ROW_COLUMNS, sql: PROFILE_COLUMNS, marker: 'profile-columns' },
  { table: 'drift', rows: DRIFT_ROW_COLUMNS, sql: DRIFT_COLUMNS, marker: 'drift-columns' },
  { table: 'alerts', rows: ALERT_ROW_COLUMNS, sql: ALERT_COLUMNS, marker: 'alert-columns' },
] as const;

// Two days of hourly predictions of two models, the second day shifted, half of them labelled.
const H = 3_600_000;
const T0 = Date.parse('2026-11-20T00:00:00Z');
function predictions(n: number, regression: boolean): PredictionRow[] {
  return Array.from({ length: n }, (_, i) => {
    const shifted = i >= n / 2;
    const cls = i % 3;
    const x = ((i * 7) % 50) / 5 + (shifted ? 4 : 0);
    return {
      t: T0 + Math.floor((i / n) * 48) * H + (i % 60) * 1000,
      model_id: i % 4 === 0 ? 'iris/2' : 'iris/1',
      values: { x: i % 17 === 0 ? null : x, color: ['red', 'green', shifted ? 'blue' : 'red'][i % 3] },
      prediction: regression ? x * 1.1 : i % 5 === 0 ? (cls + 1) % 3 : cls,
      probabilities: regression ? null : [cls === 0 ? 0.8 : 0.1, cls === 1 ? 0.8 : 0.1, cls === 2 ? 0.8 : 0.1],
      label: i % 2 === 0 ? null : regression ? x : cls,
    };
  });
}

function computed(regression: boolean): MetricsOutput {
  const settings = monitoringSchema.parse({
    slices: ['model_version', 'color'],
    drift: { min_samples: 10 },
    alerts: { quality_floors: { accuracy_score: 0.99, r2_score: 0.999 }, quality_ceilings: { log_loss: 0.01, mean_absolute_error: 0.01 } },
  });
  const hours = Array.from({ length: 48 }, (_, h) => T0 + h * H);
  // Traffic with an error spike, a slow hour and a drop in volume.
  const traffic = new Map(hours.map((s, h) => [trafficKey('1 hour', s), { request_count: h === 40 ? 5 : 100, error_rate: h === 10 ? 0.5 : 0, latency_p50_ms: 5, latency_p99_ms: h === 11 ? 5000 : 50, partial_reason: h === 12 ? '1 payload file of 2026-11-20 in quarantine' : null }]));
  return computeMetrics({
    settings,
    columns: [
      { column: 'x', type: 'DOUBLE' },
      { column: 'color', type: 'VARCHAR' },
    ],
    predictionType: regression ? 'DOUBLE' : 'BIGINT',
    counts: countsOf(batchOf(predictions(2400, regression), ['x', 'color']), ['1 hour', '1 day'], settings.slices),
    windows: new Map([
      ['1 hour', hours],
      ['1 day', [T0, T0 + 24 * H]],
    ]),
    baseline: new Map([['x', Array.from({ length: 200 }, (_, i) => (i % 50) / 5)]]),
    traffic,
    now: T0 + 48 * H,
  });
}
const classification = computed(false);
const regression = computed(true);

/** A day of chat answers: its text metrics, each a numeric column. */
function llmComputed(): MetricsOutput {
  const settings = monitoringSchema.parse({});
  const columns = ['prompt_tokens', 'completion_tokens', 'time_to_first_token_ms', 'output_tokens_per_second', 'empty_answer', 'refusal'];
  const rows: PredictionRow[] = Array.from({ length: 100 }, (_, i) => ({
    t: T0 + (i % 24) * H,
    model_id: 'gpt/1',
    values: { prompt_tokens: 10 + (i % 7), completion_tokens: 50 + (i % 11), time_to_first_token_ms: 200 + i, output_tokens_per_second: 40, empty_answer: i % 10 === 0 ? 1 : 0, refusal: 0 },
    prediction: `answer ${i}`,
    probabilities: null,
    label: null,
  }));
  return computeMetrics({
    settings,
    columns: columns.map((column) => ({ column, type: 'DOUBLE' as const })),
    predictionType: 'VARCHAR',
    counts: countsOf(batchOf(rows, columns), ['1 day'], []),
    windows: new Map([['1 day', [T0]]]),
    baseline: null,
    traffic: new Map(),
    now: T0 + 24 * H,
  });
}

describe('metrics tables: SQL columns', () => {
  for (const { table, rows, sql } of TABLES) {
    it(`${table}: the registry's columns, then the run's, with the SQL types of their schemas`, () => {
      expect(names(METRICS_TABLE_COLUMNS[table])).toEqual([...names(rows), ...names(RUN_COLUMNS)]);
      expect(sql.map(([c]) => c)).toEqual(names(METRICS_TABLE_COLUMNS[table]));
      expect(sql.map(([, t]) => t)).toEqual(METRICS_TABLE_COLUMNS[table].map((c) => sqlTypeOf(c.schema)));
    });
  }

  it('creates, stages and inserts exactly those columns on both engines', () => {
    const ref = (name: string) => ({ sql: `"db"."${name}"`, location: `s3://bucket/${name}/` });
    const tables: MetricsTables = { profile: ref('p'), drift: ref('d'), alerts: ref('a'), staged: { profile: ref('ps'), drift: ref('ds'), alerts: ref('as') } };
    const athena = metricsStatements('athena', tables, 'run-1', '2026-11-22 10:00:00');
    const duckdb = metricsStatements('duckdb', tables, 'run-1', '2026-11-22 10:00:00');
    TABLES.forEach(({ rows }, k) => {
      const [create = '', stage = '', , insert = ''] = athena.slice(5 * k, 5 * k + 4);
      const listed = (statement: string) => [...statement.slice(0, statement.indexOf(')')).matchAll(/`(\w+)` /g)].map((m) => m[1]);
      expect(listed(create.replace(/struct<[^>]*>/g, 'struct'))).toEqual([...names(rows), ...names(RUN_COLUMNS)]);
      for (const c of rows) expect(stage).toContain(`\`${c.name}\` ${renderType('athena', sqlTypeOf(c.schema))}`);
      expect(stage).not.toMatch(/run_id|computed_at/);
      expect(insert).toContain(`(${[...names(rows), ...names(RUN_COLUMNS)].map((c) => `"${c}"`).join(', ')})`);
      const view = duckdb[5 * k + 1] as string;
      expect([...view.matchAll(/'(\w+)': '/g)].map((m) => m[1])).toEqual(names(rows));
    });
  });
});

describe('metrics tables: the rows computed', () => {
  it('are complete enough to check: every alert kind, drift type and column kind', () => {
    const all = [...classification.alerts, ...regression.alerts];
    expect(new Set(all.map((a) => a.kind))).toEqual(new Set(ALERT_KINDS));
    expect(new Set(classification.drift.map((d) => d.drift_type))).toEqual(new Set(DRIFT_TYPES));
    expect(new Set(classification.drift.map((d) => (d.ks_test ? 'numeric' : 'categorical')))).toEqual(new Set(COLUMN_KINDS));
    expect(new Set(classification.drift.map((d) => d.verdict))).toEqual(new Set(VERDICTS));
  });

  const checks = [
    ['profile', profileRowSchema, PROFILE_ROW_COLUMNS, (o: MetricsOutput) => o.profile],
    ['drift', driftRowSchema, DRIFT_ROW_COLUMNS, (o: MetricsOutput) => o.drift],
    ['alerts', alertRowSchema, ALERT_ROW_COLUMNS, (o: MetricsOutput) => o.alerts],
  ] as const;
  for (const [table, schema, columns, rowsOf] of checks) {
    it(`${table}: every row has the registry's columns, in order, with values its schemas accept`, () => {
      for (const output of [classification, regression]) {
        const rows = rowsOf(output) as readonly object[];
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) {
          expect(Object.keys(row)).toEqual(names(columns));
          expect(() => schema.parse(row)).not.toThrow();
        }
      }
    });
  }

  it('fills every profile statistic somewhere, and starts a row from the empty statistics', () => {
    expect(Object.keys(NO_STATS)).toEqual(names(PROFILE_STAT_COLUMNS));
    expect(() => z.strictObject(Object.fromEntries(PROFILE_STAT_COLUMNS.map((c) => [c.name, c.schema]))).parse(NO_STATS)).not.toThrow();
    const rows = [...classification.profile, ...regression.profile];
    const filled = PROFILE_STAT_COLUMNS.filter((c) => rows.some((r) => r[c.name] !== NO_STATS[c.name]));
    expect(names(filled)).toEqual(names(PROFILE_STAT_COLUMNS));
  });
});

describe('drift statistics', () => {
  it('each has its column in the drift table, between the deltas and the counts, in registry order', () => {
    const columns = names(DRIFT_ROW_COLUMNS);
    const at = columns.indexOf('percent_null_delta') + 1;
    expect(columns.slice(at, at + DRIFT_STATISTICS.length)).toEqual(DRIFT_STATISTICS.map((s) => s.name));
    expect(columns[at + DRIFT_STATISTICS.length]).toBe('base_count');
  });

  it('a comparison fills exactly the columns of the statistics that apply to its kind', () => {
    const numeric = numericDrift([1, 2, 3, 4, 5], [2, 3, 4, 5, 6]);
    const categorical = categoricalDrift(frequencies(['a', 'b', 'b']), frequencies(['a', 'c']));
    for (const s of DRIFT_STATISTICS) {
      expect(s.compute.numeric !== undefined || s.compute.categorical !== undefined, s.name).toBe(true);
      expect(numeric[s.name] !== null, `${s.name} on numbers`).toBe(s.compute.numeric !== undefined);
      expect(categorical[s.name] !== null, `${s.name} on categories`).toBe(s.compute.categorical !== undefined);
      // The value a statistic computes is one its column holds.
      for (const d of [numeric, categorical]) expect(() => s.column.schema.parse(d[s.name])).not.toThrow();
    }
  });

  it('feed the verdict with at least one test and one effect size held to a drift setting', () => {
    const roles = DRIFT_STATISTICS.flatMap((s) => ('verdict' in s && s.verdict ? [s.verdict] : []));
    expect(roles.some((r) => 'pvalue' in r)).toBe(true);
    const settings = monitoringSchema.parse({}).drift;
    for (const r of roles) if ('floor' in r) expect(settings).toHaveProperty(r.floor);
    expect(roles.some((r) => 'effect' in r)).toBe(true);
  });

  it('are what the drift command returns and prints, in registry order', () => {
    const sample = (name: string, type: 'DOUBLE' | 'VARCHAR', values: unknown[]) => ({ name, type, values });
    const rows = compareSamples(
      [sample('x', 'DOUBLE', [1, 2, 3]), sample('c', 'VARCHAR', ['a', 'b'])],
      [sample('x', 'DOUBLE', [2, 3, 4]), sample('c', 'VARCHAR', ['a', 'a'])],
      monitoringSchema.parse({}).drift,
    );
    for (const row of rows) expect(Object.keys(row)).toEqual(['column', 'kind', 'base_count', 'current_count', ...DRIFT_STATISTICS.map((s) => s.name), 'pvalue_adjusted', 'verdict']);
    const header = formatDrift(rows).split('\n')[1] ?? '';
    const cells = header.split('│').map((c) => c.trim()).filter((c) => c !== '');
    expect(cells).toEqual(['column', 'kind', 'n base', 'n current', ...DRIFT_CELLS.map((c) => c.header), 'p adjusted', 'verdict']);
    expect(DRIFT_CELLS.length).toBeGreaterThanOrEqual(DRIFT_STATISTICS.length);
  });
});

describe('README', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const { table, marker } of TABLES) {
    it(`lists the columns of the ${table} table as the registry declares them`, () => {
      const section = new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`).exec(readme);
      expect(section?.[1]).toBe(metricsColumnsMarkdown(table));
    });
  }

  it('names every metric the refresh publishes', () => {
    for (const name of Object.values(RefreshMetric)) expect(readme).toContain(`\`${name}\``);
  });
});

describe('CloudWatch metrics of the refresh', () => {
  it('are published under the names of metric-names.ts, each of them, each profile column once', () => {
    const llm = llmComputed();
    const published = new Set([classification, regression, llm].flatMap((o) => metricData('iris', o, new Date(T0 + 48 * H)).map((d) => d.name)));
    expect([...published].sort()).toEqual(Object.values(RefreshMetric).sort());
    // The mean of the window: a tenth of the answers were empty.
    expect(metricData('chat', llm, new Date(T0 + 24 * H)).find((d) => d.name === RefreshMetric.emptyAnswerRate)).toMatchObject({ value: 0.1, dimensions: { Endpoint: 'chat', Granularity: '1 day' } });
    const fromColumns = PUBLISHED_PROFILE_COLUMNS.map((c) => c.metric.name);
    expect(new Set(fromColumns).size).toBe(fromColumns.length);
  });
});
