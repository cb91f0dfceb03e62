import { z } from 'zod';
import type { MonitoringSettings } from '../config/index.js';
import type { ColumnType } from '../unpacked-schema.js';
import { METRICS_KEY_COLUMNS, column, shapeOf, timestampText } from './columns.js';
import { type ColumnKind, DRIFT_STATISTIC_COLUMNS, type DriftColumns, driftColumns, driftOf, largeEnough, testedPvalue } from './drift-statistics.js';
import { isNumericType, sampleOf, sampleSize } from './profile.js';

/**
 * The columns of `<endpoint>_drift_metrics`, declared once (the statistics' columns come from
 * the drift-statistic registry), and the verdict of each column of a comparison.
 */

/** What a drift row concludes. */
export const VERDICTS = ['DRIFT', 'NO_DRIFT', 'INSUFFICIENT_DATA'] as const;
/** What a drift row concludes. */
export type Verdict = (typeof VERDICTS)[number];

/** What a window is compared with: the window before it, or the configured baseline. */
export const DRIFT_TYPES = ['CONSECUTIVE', 'BASELINE'] as const;

const count = z.int();
const delta = 'Of the window minus of the one compared with (null for BASELINE rows)';

/** Every column of a drift row, in order. */
export const DRIFT_ROW_COLUMNS = [
  ...METRICS_KEY_COLUMNS,
  column('drift_type', z.enum(DRIFT_TYPES), '`CONSECUTIVE`: the window against the one before it, when it has rows; `BASELINE`: against the configured baseline.'),
  column('window_cmp', z.object({ start: timestampText, end: timestampText }).nullable(), 'Bounds of the window compared with (CONSECUTIVE); null for BASELINE.'),
  column('count_delta', count, 'Rows of the window minus rows of the window compared with; for BASELINE, minus the values of the baseline.'),
  column('avg_delta', z.number().nullable(), `${delta}: mean.`),
  column('percent_null_delta', z.number().nullable(), `${delta}: share of nulls.`),
  ...DRIFT_STATISTIC_COLUMNS,
  column('base_count', count, 'Values compared on the base side (nulls and NaN left out).'),
  column('current_count', count, 'Values compared in the window.'),
  column('pvalue_adjusted', z.number().nullable(), "The test's p-value adjusted across the comparison's columns (Benjamini–Hochberg); null without a verdict."),
  column('verdict', z.enum(VERDICTS), '`DRIFT`, `NO_DRIFT`, or `INSUFFICIENT_DATA` when a side has fewer than `monitoring.drift.min_samples` values.'),
] as const;

/** zod schema of a row of `<endpoint>_drift_metrics` as the metrics step computes it. */
export const driftRowSchema = z.strictObject(shapeOf(DRIFT_ROW_COLUMNS));

/** A row of `<endpoint>_drift_metrics`. */
export type DriftRow = z.infer<typeof driftRowSchema>;

/** Benjamini–Hochberg adjusted p-values, in the input's order. */
export function benjaminiHochberg(pvalues: readonly number[]): number[] {
  const m = pvalues.length;
  const order = pvalues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k] as readonly [number, number];
    running = Math.min(running, (p * m) / (k + 1));
    adjusted[i] = running;
  }
  return adjusted;
}

/**
 * Verdicts of one comparison's columns: the test p-values (KS or chi-squared) are adjusted
 * for the number of columns tested (Benjamini–Hochberg at `alpha`); a column drifts when its
 * adjusted p-value is below `alpha` and its JS distance reaches `min_js_distance`, so a
 * large window does not turn a negligible shift into an alert. Either side below
 * `min_samples` values gives INSUFFICIENT_DATA. Which statistics are tests and which are
 * effect sizes is said by the drift-statistic registry.
 */
export function verdicts(
  rows: readonly (Partial<DriftColumns> & Pick<DriftRow, 'base_count' | 'current_count'>)[],
  settings: MonitoringSettings['drift'],
): { pvalue_adjusted: number | null; verdict: Verdict }[] {
  const tested = rows.map((r, i) => ({ i, p: testedPvalue(r), ok: r.base_count >= settings.min_samples && r.current_count >= settings.min_samples })).filter((x) => x.ok && x.p !== undefined);
  const adjusted = benjaminiHochberg(tested.map((x) => x.p as number));
  const byRow = new Map(tested.map((x, k) => [x.i, adjusted[k] as number]));
  return rows.map((r, i) => {
    const p = byRow.get(i);
    if (p === undefined) return { pvalue_adjusted: null, verdict: 'INSUFFICIENT_DATA' };
    return { pvalue_adjusted: p, verdict: p < settings.alpha && largeEnough(r, settings) ? 'DRIFT' : 'NO_DRIFT' };
  });
}

/** One column of `inference-tables drift`: the drift statistics of a baseline and a current file. */
export type ColumnDrift = Readonly<{ column: string; kind: ColumnKind } & Pick<DriftRow, 'base_count' | 'current_count'> & DriftColumns & Pick<DriftRow, 'pvalue_adjusted' | 'verdict'>>;

/** A column of a sample file. */
export interface SampleColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly values: readonly unknown[];
}

/**
 * Drift of every column two samples share. A column numeric on one side and not the other is
 * compared as text on both.
 */
export function compareSamples(base: readonly SampleColumn[], current: readonly SampleColumn[], settings: MonitoringSettings['drift']): ColumnDrift[] {
  const currentByName = new Map(current.map((c) => [c.name, c]));
  const rows: ColumnDrift[] = [];
  for (const b of base) {
    const c = currentByName.get(b.name);
    if (!c) continue;
    const type: ColumnType = isNumericType(b.type) && isNumericType(c.type) ? 'DOUBLE' : 'VARCHAR';
    const bs = sampleOf(b.values, type);
    const cs = sampleOf(c.values, type);
    rows.push({
      column: b.name,
      kind: type === 'DOUBLE' ? 'numeric' : 'categorical',
      base_count: sampleSize(bs),
      current_count: sampleSize(cs),
      ...driftColumns(driftOf(bs, cs)),
      pvalue_adjusted: null,
      verdict: 'INSUFFICIENT_DATA',
    });
  }
  const v = verdicts(rows, settings);
  return rows.map((r, i) => ({ ...r, ...(v[i] as { pvalue_adjusted: number | null; verdict: Verdict }) }));
}
