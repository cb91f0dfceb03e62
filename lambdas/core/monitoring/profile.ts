import type { ColumnType } from '../unpacked-schema.js';
import { FREQUENT_ITEMS, NO_STATS, QUANTILES, type StatsPart } from './profile-columns.js';

/**
 * A column's profile (the statistics of its profile row) and its sample for drift, from one
 * pass over its values and one sort.
 */

/** A sample of one column for drift: sorted numbers (NaN left out), or counts per category. */
export type Sample = { kind: 'numeric'; sorted: Float64Array } | { kind: 'categorical'; counts: Map<string, number> };

/** A column's profile statistics and its drift sample. */
export interface Summary {
  readonly stats: StatsPart;
  readonly sample: Sample;
}

/** Whether a column's values are compared as numbers. */
export const isNumericType = (t: ColumnType) => t === 'DOUBLE' || t === 'BIGINT';

/** A value as a number; null for a missing value (null, undefined, empty text). */
export const asNumber = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : typeof v === 'number' ? v : Number(v));
/** A value as text; null for a missing value. */
export const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Quantile of sorted values, linear between order statistics (numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

function summarizeNumbers(count: number, at: (k: number) => unknown): Summary {
  const nums = new Float64Array(count);
  let n = 0;
  let nulls = 0;
  let nan = 0;
  let zeros = 0;
  for (let k = 0; k < count; k++) {
    const x = asNumber(at(k));
    if (x === null) nulls++;
    else if (Number.isNaN(x)) nan++;
    else {
      if (x === 0) zeros++;
      nums[n++] = x;
    }
  }
  const sorted = nums.subarray(0, n).sort();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i] as number;
  mean = n ? mean / n : 0;
  let ss = 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    ss += ((sorted[i] as number) - mean) ** 2;
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  }
  const stats: StatsPart = {
    ...NO_STATS,
    count,
    num_nulls: nulls,
    percent_null: count ? nulls / count : null,
    num_nan: nan,
    num_zeros: zeros,
    percent_zeros: count ? zeros / count : null,
    avg: n ? mean : null,
    // The sample standard deviation, as Spark's stddev and Athena's stddev.
    stddev: n > 1 ? Math.sqrt(ss / (n - 1)) : null,
    min: n ? (sorted[0] as number) : null,
    max: n ? (sorted[n - 1] as number) : null,
    quantiles: n ? QUANTILES.map((q) => quantile(sorted, q)) : null,
    median: n ? quantile(sorted, 0.5) : null,
    distinct_count: distinct,
    percent_distinct: count ? distinct / count : null,
  };
  return { stats, sample: { kind: 'numeric', sorted } };
}

function summarizeText(count: number, at: (k: number) => unknown): Summary {
  const freq = new Map<string, number>();
  let nulls = 0;
  let minLength = Number.POSITIVE_INFINITY;
  let maxLength = 0;
  let totalLength = 0;
  for (let k = 0; k < count; k++) {
    const v = at(k);
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const text = String(v);
    freq.set(text, (freq.get(text) ?? 0) + 1);
    const length = [...text].length;
    minLength = Math.min(minLength, length);
    maxLength = Math.max(maxLength, length);
    totalLength += length;
  }
  const present = count - nulls;
  const top = [...freq.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, FREQUENT_ITEMS);
  const stats: StatsPart = {
    ...NO_STATS,
    count,
    num_nulls: nulls,
    percent_null: count ? nulls / count : null,
    distinct_count: freq.size,
    percent_distinct: count ? freq.size / count : null,
    frequent_items: top.map(([item, c]) => ({ item, count: c })),
    min_length: present ? minLength : null,
    max_length: present ? maxLength : null,
    avg_length: present ? totalLength / present : null,
  };
  return { stats, sample: { kind: 'categorical', counts: freq } };
}

/** A column's profile and its drift sample: of the rows `index` of `source`, or of all of them. */
export function summarize(source: ArrayLike<unknown>, index: readonly number[] | null, type: ColumnType): Summary {
  const count = index ? index.length : source.length;
  const at = index ? (k: number) => source[index[k] as number] : (k: number) => source[k];
  return isNumericType(type) ? summarizeNumbers(count, at) : summarizeText(count, at);
}

/** The profile statistics of one column's values. */
export function profileValues(values: readonly unknown[], type: ColumnType): StatsPart {
  return summarize(values, null, type).stats;
}

/** The drift sample of one column's values. */
export function sampleOf(values: readonly unknown[], type: ColumnType): Sample {
  return summarize(values, null, type).sample;
}

/** Values in a sample (nulls and NaN left out). */
export const sampleSize = (s: Sample) => (s.kind === 'numeric' ? s.sorted.length : [...s.counts.values()].reduce((a, b) => a + b, 0));
