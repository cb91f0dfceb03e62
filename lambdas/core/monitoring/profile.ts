import type { ColumnType } from '../unpacked-schema.js';
import { FREQUENT_ITEMS, NO_STATS, QUANTILES, type StatsPart } from './profile-columns.js';

/**
 * A column's profile (the statistics of its profile row) and its sample for drift, from the
 * counts of its values: the engine counts them per window cell, so the rows themselves never
 * reach the function, and a day is the sum of its hours.
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

/**
 * A column's values as counts: what the engine's GROUP BY returns for a group of rows, and
 * all the profile and the drift sample need (every statistic here is a function of them).
 */
export interface ValueTally {
  /** Rows, nulls included. */
  count: number;
  nulls: number;
  /** Numbers or texts, with how many rows had each; a value may repeat. Numbers of rows may come typed. */
  readonly values: unknown[] | Float64Array;
  /** Null when each value is one row (a column read as rows). */
  readonly counts: number[] | null;
}

/** An empty tally, to add values to (`rows`: one row per value, no counts kept). */
export const emptyTally = (rows = false): ValueTally => ({ count: 0, nulls: 0, values: [], counts: rows ? null : [] });

/** Adds `n` rows of a value to a tally (NaN, null and empty text as rows without a value). */
export function addToTally(t: ValueTally, value: unknown, n: number): void {
  t.count += n;
  if (value === null || value === undefined) t.nulls += n;
  else {
    (t.values as unknown[]).push(value);
    t.counts?.push(n);
  }
}

/** The tally's numbers in order, each repeated by its count, with NaN counted apart. */
function sortedNumbers(t: ValueTally): { sorted: Float64Array; nan: number; nulls: number } {
  let nan = 0;
  let nulls = t.nulls;
  if (t.values instanceof Float64Array) {
    // Numbers of rows, already typed (and the tally's own): NaN set apart, then sorted in place.
    let k = 0;
    for (const x of t.values) {
      if (Number.isNaN(x)) nan++;
      else t.values[k++] = x;
    }
    return { sorted: t.values.subarray(0, k).sort(), nan, nulls };
  }
  const numbers = new Float64Array(t.values.length);
  const counts = new Float64Array(t.values.length);
  let k = 0;
  let total = 0;
  for (let i = 0; i < t.values.length; i++) {
    const x = asNumber(t.values[i]);
    const n = t.counts?.[i] ?? 1;
    if (x === null) nulls += n;
    else if (Number.isNaN(x)) nan += n;
    else {
      numbers[k] = x;
      counts[k++] = n;
      total += n;
    }
  }
  const sorted = new Float64Array(total);
  if (k * 4 > total) {
    // Mostly one row per entry (a continuous feature): a typed sort of the rows is fastest.
    for (let i = 0, at = 0; i < k; i++) sorted.fill(numbers[i] as number, at, (at += counts[i] as number));
    return { sorted: sorted.sort(), nan, nulls };
  }
  // Few values, many rows each: sort the values, then repeat each by its rows.
  const distinct = new Map<number, number>();
  for (let i = 0; i < k; i++) distinct.set(numbers[i] as number, (distinct.get(numbers[i] as number) ?? 0) + (counts[i] as number));
  let at = 0;
  for (const x of Float64Array.from(distinct.keys()).sort()) sorted.fill(x, at, (at += distinct.get(x) as number));
  return { sorted, nan, nulls };
}

function summarizeNumbers(t: ValueTally): Summary {
  const { count } = t;
  const { sorted, nan, nulls } = sortedNumbers(t);
  const n = sorted.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += sorted[i] as number;
  mean = n ? mean / n : 0;
  let ss = 0;
  let distinct = 0;
  let zeros = 0;
  for (let i = 0; i < n; i++) {
    ss += ((sorted[i] as number) - mean) ** 2;
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
    if (sorted[i] === 0) zeros++;
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

function summarizeText(t: ValueTally): Summary {
  const { count, nulls } = t;
  const freq = new Map<string, number>();
  let minLength = Number.POSITIVE_INFINITY;
  let maxLength = 0;
  let totalLength = 0;
  for (let i = 0; i < t.values.length; i++) {
    const text = String(t.values[i]);
    const n = t.counts?.[i] ?? 1;
    freq.set(text, (freq.get(text) ?? 0) + n);
    const length = [...text].length;
    minLength = Math.min(minLength, length);
    maxLength = Math.max(maxLength, length);
    totalLength += length * n;
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

/** A column's profile and its drift sample, from its tally. */
export function summarizeTally(t: ValueTally, type: ColumnType): Summary {
  return isNumericType(type) ? summarizeNumbers(t) : summarizeText(t);
}

/** A column's profile and its drift sample: of the rows `index` of `source`, or of all of them. */
export function summarize(source: ArrayLike<unknown>, index: readonly number[] | null, type: ColumnType): Summary {
  const t = emptyTally();
  const count = index ? index.length : source.length;
  for (let k = 0; k < count; k++) addToTally(t, source[index ? (index[k] as number) : k], 1);
  return summarizeTally(t, type);
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
