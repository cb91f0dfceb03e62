import gammainc from '@stdlib/math-base-special-gammainc';
import type { TestResult } from './ks.js';

/**
 * The measures of drift between a baseline and a current sample of one column, and the
 * binning they are taken over. Reference values: scipy (`ks_2samp`, `wasserstein_distance`,
 * `chi2_contingency` without continuity correction, `distance.jensenshannon(base=2)`); the
 * binning rules below are written in the README. Which measure applies to which column, and
 * how each becomes a column of the drift table, is the drift-statistic registry's business
 * (`monitoring/drift-statistics.ts`).
 */

/** Proportions of an empty bin are raised to this before PSI takes logarithms (as Evidently does). */
export const PSI_EMPTY_BIN = 1e-4;

/** Sturges' rule on the pooled sample: ⌈log₂ n⌉ + 1 equal-width bins between its min and max. */
export function sturgesBins(n: number): number {
  return n <= 1 ? 1 : Math.ceil(Math.log2(n)) + 1;
}

/** Counts of `sorted` in `k` equal-width bins over [lo, hi]; the top edge belongs to the last bin. */
export function binCounts(sorted: ArrayLike<number>, lo: number, hi: number, k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  const width = hi - lo;
  for (let i = 0; i < sorted.length; i++) {
    const x = sorted[i] as number;
    const bin = width > 0 ? Math.min(Math.floor(((x - lo) / width) * k), k - 1) : 0;
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

/** Each count's share of their total. */
export function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

/** Jensen–Shannon distance, base 2 (the square root of the divergence), of two distributions. */
export function jsDistance(p: readonly number[], q: readonly number[]): number {
  let div = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] as number;
    const qi = q[i] as number;
    const m = (pi + qi) / 2;
    if (pi > 0) div += pi * Math.log(pi / m);
    if (qi > 0) div += qi * Math.log(qi / m);
  }
  return Math.sqrt(Math.max(0, div / 2 / Math.LN2));
}

/** Population stability index Σ (q−p)·ln(q/p), with empty bins raised to {@link PSI_EMPTY_BIN}. */
export function psi(base: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < base.length; i++) {
    const p = Math.max(base[i] as number, PSI_EMPTY_BIN);
    const q = Math.max(current[i] as number, PSI_EMPTY_BIN);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/** 1-Wasserstein distance of two sorted samples: ∫|F − G|. */
export function wasserstein(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let area = 0;
  let prev = Math.min(a[0] as number, b[0] as number);
  while (i < n || j < m) {
    const x = j >= m || (i < n && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    area += Math.abs(i / n - j / m) * (x - prev);
    while (i < n && (a[i] as number) <= x) i++;
    while (j < m && (b[j] as number) <= x) j++;
    prev = x;
  }
  return area;
}

/** Chi-squared test of independence on the 2×k table of counts (no continuity correction). */
export function chiSquared(base: readonly number[], current: readonly number[]): TestResult {
  const nb = base.reduce((a, b) => a + b, 0);
  const nc = current.reduce((a, b) => a + b, 0);
  const n = nb + nc;
  let stat = 0;
  let k = 0;
  for (let i = 0; i < base.length; i++) {
    const col = (base[i] as number) + (current[i] as number);
    if (col === 0) continue;
    k++;
    const eb = (nb * col) / n;
    const ec = (nc * col) / n;
    stat += ((base[i] as number) - eb) ** 2 / eb + ((current[i] as number) - ec) ** 2 / ec;
  }
  const dof = k - 1;
  if (dof <= 0) return { statistic: 0, pvalue: 1 };
  // The chi-squared survival function is the upper regularized incomplete gamma Q(dof/2, x/2).
  return { statistic: stat, pvalue: gammainc(stat / 2, dof / 2, true, true) };
}

/** Total variation distance ½ Σ |pᵢ − qᵢ| of two distributions. */
export function tvDistance(p: readonly number[], q: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += Math.abs((p[i] as number) - (q[i] as number));
  return sum / 2;
}

/** L∞ distance maxᵢ |pᵢ − qᵢ| of two distributions. */
export function lInfinityDistance(p: readonly number[], q: readonly number[]): number {
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs((p[i] as number) - (q[i] as number)));
  return max;
}

/** Values sorted ascending, NaN left out. */
export function ascending(values: Iterable<number>): Float64Array {
  const out = Float64Array.from([...values].filter((v) => !Number.isNaN(v)));
  return out.sort();
}

/**
 * The proportions of two sorted numeric samples over the same bins: {@link sturgesBins} of
 * the pooled sample, of equal width between its min and max.
 */
export function binnedProportions(a: Float64Array, b: Float64Array): { p: number[]; q: number[] } {
  if (a.length === 0 || b.length === 0) throw new RangeError('drift needs at least one value on each side');
  const lo = Math.min(a[0] as number, b[0] as number);
  const hi = Math.max(a[a.length - 1] as number, b[b.length - 1] as number);
  const k = sturgesBins(a.length + b.length);
  return { p: proportions(binCounts(a, lo, hi, k)), q: proportions(binCounts(b, lo, hi, k)) };
}

/** Counts per category. */
export function frequencies(values: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** The counts of two samples over the union of their categories, sorted. */
export function alignedCounts(base: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): { base: number[]; current: number[] } {
  const categories = [...new Set([...base.keys(), ...current.keys()])].sort();
  const bc = categories.map((c) => base.get(c) ?? 0);
  const cc = categories.map((c) => current.get(c) ?? 0);
  if (bc.reduce((x, y) => x + y, 0) === 0 || cc.reduce((x, y) => x + y, 0) === 0) throw new RangeError('drift needs at least one value on each side');
  return { base: bc, current: cc };
}
