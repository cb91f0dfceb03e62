import { describe, expect, it } from 'vitest';
import { monitoringSchema } from '../../lambdas/core/config/index.js';
import { windowsOf } from '../../lambdas/workflow/metrics-step.js';
import { LLM_COLUMN_METRICS } from '../../lambdas/core/metric-names.js';
import { LLM_COLUMNS } from '../../lambdas/core/unpack.js';
import { batchOf, countsOf, benjaminiHochberg, computeMetrics, profileValues, trafficKey, verdicts, windowStart } from '../../lambdas/core/monitoring/index.js';

const settings = monitoringSchema.parse({});

describe('windows', () => {
  it('starts hours, days and Monday weeks in UTC', () => {
    const t = Date.parse('2026-11-22T15:42:10Z'); // a Sunday
    expect(new Date(windowStart('1 hour', t)).toISOString()).toBe('2026-11-22T15:00:00.000Z');
    expect(new Date(windowStart('5 minutes', t)).toISOString()).toBe('2026-11-22T15:40:00.000Z');
    expect(new Date(windowStart('1 day', t)).toISOString()).toBe('2026-11-22T00:00:00.000Z');
    expect(new Date(windowStart('1 week', t)).toISOString()).toBe('2026-11-16T00:00:00.000Z');
  });
});

describe('verdicts', () => {
  it('adjusts p-values with Benjamini–Hochberg, in the input order', () => {
    const adjusted = benjaminiHochberg([0.01, 0.04, 0.03, 0.2]);
    expect(adjusted[0]).toBeCloseTo(0.04, 12);
    expect(adjusted[1]).toBeCloseTo(0.04 * 4 / 3, 12);
    expect(adjusted[2]).toBeCloseTo(0.04 * 4 / 3, 12);
    expect(adjusted[3]).toBeCloseTo(0.2, 12);
  });

  const row = (p: number, js: number, n = 1000) => ({ ks_test: { statistic: 0.1, pvalue: p }, chi_squared_test: null, js_distance: js, base_count: n, current_count: n });

  it('needs both a significant adjusted p-value and a large enough JS distance', () => {
    const v = verdicts([row(1e-9, 0.3), row(1e-9, 0.02), row(0.5, 0.3)], settings.drift);
    expect(v.map((x) => x.verdict)).toEqual(['DRIFT', 'NO_DRIFT', 'NO_DRIFT']);
  });

  it('says INSUFFICIENT_DATA below min_samples, and leaves that column out of the correction', () => {
    const v = verdicts([row(1e-9, 0.5, 50), row(0.02, 0.3), row(0.03, 0.3)], settings.drift);
    expect(v[0]).toEqual({ pvalue_adjusted: null, verdict: 'INSUFFICIENT_DATA' });
    // Two columns tested, not three: 0.03·2/2 = 0.03 for the larger.
    expect(v[2]?.pvalue_adjusted).toBeCloseTo(0.03, 12);
  });

  it('turns a column that is significant alone into no drift when many columns are tested', () => {
    const rows = [row(0.04, 0.3), ...Array.from({ length: 9 }, () => row(0.9, 0.3))];
    expect(verdicts(rows, settings.drift)[0]?.verdict).toBe('NO_DRIFT');
    expect(verdicts([row(0.04, 0.3)], settings.drift)[0]?.verdict).toBe('DRIFT');
  });
});

describe('profile', () => {
  it('counts nulls, NaN and zeros, and takes numpy-style quantiles', () => {
    const p = profileValues([0, 1, 2, 3, null, Number.NaN], 'DOUBLE');
    expect(p).toMatchObject({ count: 6, num_nulls: 1, num_nan: 1, num_zeros: 1, min: 0, max: 3, median: 1.5, distinct_count: 4 });
    expect(p.quantiles?.[4]).toBeCloseTo(0.75, 12); // 25th percentile of 0..3
    expect(p.stddev).toBeCloseTo(Math.sqrt(5 / 3), 12);
  });

  it('keeps frequent items and lengths of strings', () => {
    const p = profileValues(['a', 'bb', 'bb', null], 'VARCHAR');
    expect(p).toMatchObject({ count: 4, num_nulls: 1, distinct_count: 2, frequent_items: [{ item: 'bb', count: 2 }, { item: 'a', count: 1 }], min_length: 1, max_length: 2 });
    expect(p.avg).toBeNull();
  });
});

describe('alerts', () => {
  const hour = 3_600_000;
  const t0 = Date.parse('2026-11-22T10:00:00Z');
  const input = (traffic: [number, number][], now: number) =>
    computeMetrics({
      settings,
      columns: [{ column: 'x', type: 'DOUBLE' }],
      predictionType: 'BIGINT',
      counts: countsOf(batchOf([]), ['1 hour'], []),
      windows: new Map([['1 hour', [t0 + hour]]]),
      baseline: null,
      traffic: new Map(traffic.map(([start, count]) => [trafficKey('1 hour', start), { request_count: count, error_rate: 0, latency_p50_ms: 1, latency_p99_ms: 2 }])),
      now,
    });

  it('raises a volume drop only once the window is over', () => {
    const drop: [number, number][] = [
      [t0, 100],
      [t0 + hour, 10],
    ];
    expect(input(drop, t0 + 2 * hour).alerts.map((a) => a.kind)).toEqual(['volume']);
    expect(input(drop, t0 + hour + 60_000).alerts).toEqual([]);
  });

  it('raises error rate and latency alerts above their thresholds', () => {
    const out = computeMetrics({
      settings,
      columns: [],
      predictionType: 'BIGINT',
      counts: countsOf(batchOf([]), ['1 hour'], []),
      windows: new Map([['1 hour', [t0]]]),
      baseline: null,
      traffic: new Map([[trafficKey('1 hour', t0), { request_count: 10, error_rate: 0.5, latency_p50_ms: 10, latency_p99_ms: 5000 }]]),
    });
    expect(out.alerts.map((a) => a.kind).sort()).toEqual(['error_rate', 'latency']);
  });

  it('gives each model its own error rate, a model that only failed included', () => {
    const figures = (errorRate: number, count: number) => ({ request_count: count, error_rate: errorRate, latency_p50_ms: 10, latency_p99_ms: 20 });
    const out = computeMetrics({
      settings,
      columns: [],
      predictionType: 'BIGINT',
      counts: countsOf(batchOf([{ t: t0 + 1, model_id: 'm/1', values: {}, prediction: 1, probabilities: null, label: null }]), ['1 hour'], []),
      windows: new Map([['1 hour', [t0]]]),
      baseline: null,
      traffic: new Map([
        [trafficKey('1 hour', t0), figures(0.5, 2)],
        [trafficKey('1 hour', t0, 'm/1'), figures(0, 1)],
        [trafficKey('1 hour', t0, 'm/2'), figures(1, 1)],
      ]),
    });
    const tables = out.profile.filter((p) => p.column_name === ':table' && p.slice_key === null).map((p) => [p.model_id, p.count, p.request_count, p.error_rate]);
    expect(tables.sort()).toEqual([
      ['*', 1, 2, 0.5],
      ['m/1', 1, 1, 0],
      ['m/2', 0, 1, 1],
    ]);
  });
});

describe('windows to recompute', () => {
  it('are the windows of each granularity that overlap the hours touched', () => {
    const hour = Date.parse('2026-11-22T10:00:00Z');
    const windows = windowsOf(['5 minutes', '1 hour', '1 day', '1 week'], [hour]);
    expect(windows.get('5 minutes')).toHaveLength(12);
    expect(windows.get('1 hour')).toEqual([hour]);
    expect(windows.get('1 day')).toEqual([Date.parse('2026-11-22T00:00:00Z')]);
    expect(windows.get('1 week')).toEqual([Date.parse('2026-11-16T00:00:00Z')]);
  });
});

describe('carried windows', () => {
  it('compares the first window of a batch with the last one of the batch before, without its rows', () => {
    const day = 86_400_000;
    const d1 = Date.parse('2026-11-20T00:00:00Z');
    const rowsOf = (start: number, n: number, shift: number) =>
      Array.from({ length: n }, (_, i) => ({ t: start + i * 1000, model_id: 'm/1', values: { x: (i % 50) + shift }, prediction: i % 2, probabilities: null, label: null }));
    const common = { settings, columns: [{ column: 'x', type: 'DOUBLE' as const }], predictionType: 'BIGINT' as const, baseline: null, traffic: new Map() };
    const first = computeMetrics({ ...common, counts: countsOf(batchOf(rowsOf(d1, 300, 0), ['x']), ['1 day'], []), windows: new Map([['1 day', [d1]]]) });
    expect(first.last?.start).toBe(d1);
    const second = computeMetrics({ ...common, counts: countsOf(batchOf(rowsOf(d1 + day, 200, 30), ['x']), ['1 day'], []), windows: new Map([['1 day', [d1 + day]]]), carried: first.last });
    const x = second.drift.find((r) => r.column_name === 'x' && r.model_id === '*' && r.drift_type === 'CONSECUTIVE');
    expect(x).toMatchObject({ base_count: 300, current_count: 200, count_delta: -100, verdict: 'DRIFT', window_cmp: { start: '2026-11-20 00:00:00.000' } });
    // Not carried across a gap: a window two days later has no CONSECUTIVE row.
    const later = computeMetrics({ ...common, counts: countsOf(batchOf(rowsOf(d1 + 3 * day, 200, 0), ['x']), ['1 day'], []), windows: new Map([['1 day', [d1 + 3 * day]]]), carried: second.last });
    expect(later.drift.filter((r) => r.drift_type === 'CONSECUTIVE')).toEqual([]);
  });
});

describe('the text metrics published', () => {
  it('are columns of LLM rows', () => {
    for (const column of Object.keys(LLM_COLUMN_METRICS)) expect(LLM_COLUMNS as readonly string[]).toContain(column);
  });
});
