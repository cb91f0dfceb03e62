import { z } from 'zod';
import type { MonitoringSettings } from '../config/index.js';
import { alignedCounts, ascending, binnedProportions, chiSquared, frequencies, jsDistance, lInfinityDistance, proportions, psi, tvDistance, wasserstein } from '../stats/drift.js';
import { ks2samp } from '../stats/ks.js';
import { type MetricsColumn, type ShapeOf, column } from './columns.js';
import { type Sample, sampleSize } from './profile.js';

/**
 * The drift statistics, one entry each: the column kinds it applies to and how it is computed
 * there (with the functions of `stats/`, checked against scipy), its column of the drift
 * table, how it feeds the verdict, and its cells in the `drift` command's table. The drift
 * row's columns and type, the SQL of the drift table, the README's column table and the
 * command's output derive from this list: adding a statistic is one entry here, plus its
 * reference values in `scripts/stats-fixtures.py` and its test.
 */

/** The kinds of column drift compares: numbers, or categories (text, booleans). */
export const COLUMN_KINDS = ['numeric', 'categorical'] as const;
export type ColumnKind = (typeof COLUMN_KINDS)[number];

/**
 * Two numeric samples, prepared once for every statistic: sorted (NaN left out), and their
 * proportions over the same Sturges bins.
 */
export interface NumericPair {
  readonly kind: 'numeric';
  readonly base: Float64Array;
  readonly current: Float64Array;
  readonly p: readonly number[];
  readonly q: readonly number[];
}

/** Two categorical samples: counts over the union of their categories (sorted), and proportions. */
export interface CategoricalPair {
  readonly kind: 'categorical';
  readonly base: readonly number[];
  readonly current: readonly number[];
  readonly p: readonly number[];
  readonly q: readonly number[];
}

/** The settings of the drift verdict an effect size is held to. */
type EffectFloor = Exclude<keyof MonitoringSettings['drift'], 'alpha' | 'min_samples'>;

/**
 * How a statistic feeds the verdict: as a test whose p-value is adjusted across the columns of
 * a comparison (the first test that applies to a column is its test), or as an effect size
 * that must reach a floor of `monitoring.drift` for a significant column to drift.
 */
export type VerdictRole<T> = { pvalue(value: T): number } | { effect(value: T): number; readonly floor: EffectFloor };

/** One cell of a statistic in the `drift` command's table. */
export interface DriftCell<T> {
  readonly header: string;
  value(v: T): number;
  /** Digits after the point (6 unless given). */
  readonly digits?: number;
}

/** A drift statistic. Methods (not arrow properties) keep entries of every value type in one list. */
export interface DriftStatistic<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** Its column in the drift table. */
  readonly name: N;
  /** Its value, when computed (the column is null when it does not apply or a side is empty). */
  readonly schema: S;
  readonly description: string;
  /** How it is computed, for each column kind it applies to. */
  readonly compute: { numeric?(pair: NumericPair): z.output<S>; categorical?(pair: CategoricalPair): z.output<S> };
  readonly verdict?: VerdictRole<z.output<S>>;
  readonly cells: readonly DriftCell<z.output<S>>[];
  /** Its column of the drift table (nullable), derived. */
  readonly column: MetricsColumn<N, z.ZodNullable<S>>;
}

function statistic<const N extends string, S extends z.ZodType>(s: Omit<DriftStatistic<N, S>, 'column'>): DriftStatistic<N, S> {
  return { ...s, column: column(s.name, s.schema.nullable(), s.description) };
}

const testResult = z.object({ statistic: z.number(), pvalue: z.number() });
const testCells = (label: string, statisticDigits?: number): DriftCell<z.output<typeof testResult>>[] => [
  { header: `${label} stat`, value: (t) => t.statistic, ...(statisticDigits === undefined ? {} : { digits: statisticDigits }) },
  { header: `${label} p`, value: (t) => t.pvalue },
];
const single = (header: string): DriftCell<number>[] => [{ header, value: (v) => v }];

/** Every drift statistic, in the drift table's column order. */
export const DRIFT_STATISTICS = [
  statistic({
    name: 'ks_test',
    schema: testResult,
    description: "Two-sample Kolmogorov–Smirnov test (numeric columns), as scipy's `ks_2samp`.",
    compute: {
      numeric: ({ base, current }) => {
        const { statistic: s, pvalue } = ks2samp(base, current);
        return { statistic: s, pvalue };
      },
    },
    verdict: { pvalue: (t) => t.pvalue },
    cells: testCells('ks'),
  }),
  statistic({
    name: 'chi_squared_test',
    schema: testResult,
    description: 'Chi-squared test of the 2×k table of counts (categorical columns), without continuity correction.',
    compute: { categorical: ({ base, current }) => chiSquared(base, current) },
    verdict: { pvalue: (t) => t.pvalue },
    // The statistic grows with the sample: fewer digits.
    cells: testCells('chi2', 4),
  }),
  statistic({
    name: 'js_distance',
    schema: z.number(),
    description: 'Jensen–Shannon distance (base 2) of the binned proportions or category frequencies.',
    compute: { numeric: ({ p, q }) => jsDistance(p, q), categorical: ({ p, q }) => jsDistance(p, q) },
    verdict: { effect: (d) => d, floor: 'min_js_distance' },
    cells: single('js'),
  }),
  statistic({
    name: 'wasserstein_distance',
    schema: z.number(),
    description: '1-Wasserstein distance of the values (numeric columns).',
    compute: { numeric: ({ base, current }) => wasserstein(base, current) },
    cells: single('wasserstein'),
  }),
  statistic({
    name: 'population_stability_index',
    schema: z.number(),
    description: 'Population stability index over the same bins or categories, empty ones raised to 0.0001.',
    compute: { numeric: ({ p, q }) => psi(p, q), categorical: ({ p, q }) => psi(p, q) },
    cells: single('psi'),
  }),
  statistic({
    name: 'tv_distance',
    schema: z.number(),
    description: 'Total variation distance of the category frequencies (categorical columns).',
    compute: { categorical: ({ p, q }) => tvDistance(p, q) },
    cells: single('tv'),
  }),
  statistic({
    name: 'l_infinity_distance',
    schema: z.number(),
    description: 'L-infinity distance of the category frequencies (categorical columns).',
    compute: { categorical: ({ p, q }) => lInfinityDistance(p, q) },
    cells: single('l_inf'),
  }),
] as const;

type Statistic = (typeof DRIFT_STATISTICS)[number];
// Iterated without their value types (methods are checked bivariantly).
const STATISTICS: readonly DriftStatistic[] = DRIFT_STATISTICS;

/** The drift table's columns of the statistics, in order. */
export const DRIFT_STATISTIC_COLUMNS: readonly Statistic['column'][] = DRIFT_STATISTICS.map((s) => s.column);

/** The statistics columns a drift row and a `drift` command row share. */
export type DriftColumns = z.infer<z.ZodObject<ShapeOf<typeof DRIFT_STATISTIC_COLUMNS>>>;

/** The statistics of one column's drift, with its kind and sample sizes; those that do not apply are null. */
export type DriftStatistics = { readonly kind: ColumnKind; readonly base_count: number; readonly current_count: number } & Readonly<DriftColumns>;

/** Every statistic of a prepared pair: computed where it applies to the pair's kind, else null. */
function statisticsOf(pair: NumericPair | CategoricalPair): DriftColumns {
  const out: Record<string, unknown> = {};
  for (const s of STATISTICS) {
    const compute = pair.kind === 'numeric' ? s.compute.numeric?.(pair) : s.compute.categorical?.(pair);
    out[s.name] = compute ?? null;
  }
  return out as DriftColumns;
}

/** Drift of two sorted numeric samples without NaN. Both need a value. */
export function numericDriftSorted(base: Float64Array, current: Float64Array): DriftStatistics {
  const { p, q } = binnedProportions(base, current);
  return { kind: 'numeric', base_count: base.length, current_count: current.length, ...statisticsOf({ kind: 'numeric', base, current, p, q }) };
}

/** Drift of a numeric column. Nulls and NaN are left out; both samples need a value. */
export function numericDrift(baseValues: Iterable<number>, currentValues: Iterable<number>): DriftStatistics {
  return numericDriftSorted(ascending(baseValues), ascending(currentValues));
}

/** Drift of a categorical column from its counts per category (nulls left out). */
export function categoricalDrift(base: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): DriftStatistics {
  const counts = alignedCounts(base, current);
  const sum = (c: readonly number[]) => c.reduce((x, y) => x + y, 0);
  const pair: CategoricalPair = { kind: 'categorical', ...counts, p: proportions(counts.base), q: proportions(counts.current) };
  return { kind: 'categorical', base_count: sum(counts.base), current_count: sum(counts.current), ...statisticsOf(pair) };
}

/**
 * Drift statistics of two samples of a column, or null when either side has no value. A
 * numeric sample compared with a categorical one is compared as text.
 */
export function driftOf(base: Sample, current: Sample): DriftStatistics | null {
  if (sampleSize(base) === 0 || sampleSize(current) === 0) return null;
  if (base.kind === 'numeric' && current.kind === 'numeric') return numericDriftSorted(base.sorted, current.sorted);
  const counts = (s: Sample) => (s.kind === 'categorical' ? s.counts : frequencies(Array.from(s.sorted, String)));
  return categoricalDrift(counts(base), counts(current));
}

/** The statistics of a comparison as row columns; all null when a side had no value. */
export function driftColumns(d: DriftStatistics | null): DriftColumns {
  return Object.fromEntries(STATISTICS.map((s) => [s.name, d ? d[s.name as keyof DriftColumns] : null])) as DriftColumns;
}

/** The p-value a column's verdict tests: that of the first test that applies to it. */
export function testedPvalue(columns: Partial<DriftColumns>): number | undefined {
  for (const s of STATISTICS) {
    const value = columns[s.name as keyof DriftColumns];
    if (s.verdict && 'pvalue' in s.verdict && value !== null && value !== undefined) return s.verdict.pvalue(value);
  }
  return undefined;
}

/** Whether every effect size reaches its floor (a missing one counts as 0). */
export function largeEnough(columns: Partial<DriftColumns>, settings: MonitoringSettings['drift']): boolean {
  return STATISTICS.every((s) => {
    if (!s.verdict || !('effect' in s.verdict)) return true;
    const value = columns[s.name as keyof DriftColumns];
    return (value === null || value === undefined ? 0 : s.verdict.effect(value)) >= settings[s.verdict.floor];
  });
}

/** The `drift` command's cells of the statistics: headers, and values with their digits. */
export const DRIFT_CELLS: readonly { readonly header: string; readonly digits: number; value(columns: DriftColumns): number | null }[] = STATISTICS.flatMap((s) =>
  s.cells.map((cell) => ({
    header: cell.header,
    digits: cell.digits ?? 6,
    value: (columns: DriftColumns) => {
      const v = columns[s.name as keyof DriftColumns];
      return v === null || v === undefined ? null : cell.value(v);
    },
  })),
);
