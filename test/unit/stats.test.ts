import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { type DriftStatistics, categoricalDrift, numericDrift } from '../../lambdas/core/monitoring/index.js';
import { frequencies } from '../../lambdas/core/stats/drift.js';
import { ks2samp, kstwoSf } from '../../lambdas/core/stats/ks.js';
import { classificationQuality, regressionQuality } from '../../lambdas/core/stats/quality.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'stats');
const drift = JSON.parse(readFileSync(join(DIR, 'drift-expected.json'), 'utf8')) as {
  sets: Record<string, Record<string, Record<string, unknown>>>;
  kstwo_sf: { n: number; d: number; sf: number }[];
};
const quality = JSON.parse(readFileSync(join(DIR, 'quality-expected.json'), 'utf8')) as { cases: Record<string, { labels: unknown[]; predictions: unknown[]; probabilities?: number[][] | null; expected: Record<string, unknown> }> };

/** Equal to 1e-6: absolutely, and relatively below 1e-3 (p-values go down to 1e-57). */
function close(actual: number | null | undefined, expected: number): void {
  expect(actual).not.toBeNull();
  const tolerance = Math.abs(expected) < 1e-3 ? 1e-6 * Math.abs(expected) + 1e-300 : 1e-6;
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

function columns(file: string): Record<string, string[]> {
  const rows = parse(readFileSync(join(DIR, file)), { columns: true }) as Record<string, string>[];
  const out: Record<string, string[]> = {};
  for (const row of rows) for (const [k, v] of Object.entries(row)) (out[k] ??= []).push(v);
  return out;
}

describe('drift statistics agree with scipy', () => {
  for (const [set, expected] of Object.entries(drift.sets)) {
    const base = columns(`${set}-baseline.csv`);
    const current = columns(`${set}-current.csv`);
    for (const [column, want] of Object.entries(expected)) {
      it(`${set}.${column}`, () => {
        const a = (base[column] ?? []).filter((v) => v !== '');
        const b = (current[column] ?? []).filter((v) => v !== '');
        const got: DriftStatistics =
          want.kind === 'numeric' ? numericDrift(a.map(Number), b.map(Number)) : categoricalDrift(frequencies(a.map((v) => v.toLowerCase())), frequencies(b.map((v) => v.toLowerCase())));
        expect(got.base_count).toBe(want.base_count);
        expect(got.current_count).toBe(want.current_count);
        for (const key of ['js_distance', 'population_stability_index', 'wasserstein_distance', 'tv_distance', 'l_infinity_distance'] as const) {
          if (key in want) close(got[key], want[key] as number);
        }
        for (const key of ['ks_test', 'chi_squared_test'] as const) {
          if (!(key in want)) continue;
          const w = want[key] as { statistic: number; pvalue: number };
          close(got[key]?.statistic, w.statistic);
          close(got[key]?.pvalue, w.pvalue);
        }
      });
    }
  }

  it('kstwo.sf through each of its methods', () => {
    for (const { n, d, sf } of drift.kstwo_sf) close(kstwoSf(n, d), sf);
  });

  it('the comparison fails a value off by more than 1e-6', () => {
    expect(() => close(0.5 + 2e-6, 0.5)).toThrow();
    expect(() => close(1.01e-10, 1e-10)).toThrow();
  });

  it('rejects an empty sample with a message', () => {
    expect(() => ks2samp([], [1])).toThrow(/non-empty/);
    expect(() => numericDrift([Number.NaN], [1])).toThrow(/at least one value/);
  });

  it('identical samples do not drift', () => {
    const s = numericDrift([1, 2, 3, 4], [4, 3, 2, 1]);
    expect(s.ks_test).toMatchObject({ statistic: 0, pvalue: 1 });
    expect(s.wasserstein_distance).toBe(0);
    expect(s.population_stability_index).toBe(0);
    const c = categoricalDrift(frequencies(['a']), frequencies(['a', 'a']));
    expect(c.chi_squared_test).toEqual({ statistic: 0, pvalue: 1 });
  });
});

describe('quality metrics agree with scikit-learn', () => {
  for (const [name, c] of Object.entries(quality.cases)) {
    it(name, () => {
      const e = c.expected;
      if (name === 'regression') {
        const got = regressionQuality(c.labels as number[], c.predictions as number[]);
        for (const [k, v] of Object.entries(e)) close(got[k as keyof typeof got], v as number);
        return;
      }
      const got = classificationQuality(c.labels.map(String), c.predictions.map(String), c.probabilities ?? undefined);
      close(got.accuracy_score, e.accuracy_score as number);
      for (const m of ['precision', 'recall', 'f1_score'] as const) {
        const w = e[m] as { macro: number; weighted: number };
        close(got[m].macro, w.macro);
        close(got[m].weighted, w.weighted);
      }
      expect(got.confusion_matrix.matrix).toEqual(e.confusion_matrix);
      if (e.roc_auc === null) expect(got.roc_auc).toBeNull();
      else close(got.roc_auc, e.roc_auc as number);
      if (e.log_loss === null) expect(got.log_loss).toBeNull();
      else close(got.log_loss, e.log_loss as number);
    });
  }
});
