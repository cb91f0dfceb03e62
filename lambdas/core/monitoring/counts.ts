import type { Granularity } from '../config/index.js';
import type { PredictionBatch } from './batch.js';
import { type ValueTally, addToTally, asNumber, asText, emptyTally } from './profile.js';
import { windowLength } from './windows.js';

/**
 * What the metrics are computed from: per column, how many rows of each time cell, model and
 * slice values had each value. It is what the engine's GROUP BY returns, so rows never reach
 * the function, and the sufficient statistic of every profile and drift figure: a window's
 * counts are the sum of its cells', so a day is combined from its hours, not read again.
 */

/** The counts of one column: entry `i` says `count[i]` rows of that cell, model and slice values had `value[i]`. */
export interface ValueCounts {
  /** Start of the entry's cell (epoch ms). */
  readonly cell: ArrayLike<number>;
  /** Index of the entry's model in {@link CountBatch.models}. */
  readonly model: ArrayLike<number>;
  /** The entry's value of each slice column, in {@link CountBatch.slices} order. */
  readonly slices: readonly ArrayLike<unknown>[];
  readonly value: ArrayLike<unknown>;
  readonly count: ArrayLike<number>;
  /** Every entry is one row (the column was read as rows): no counts to keep. */
  readonly rows?: boolean;
}

/** The counts of some windows' rows, and their labelled rows. */
export interface CountBatch {
  /** Length of a cell (ms): the shortest window computed (a day when only weeks are). */
  readonly unit: number;
  readonly models: readonly string[];
  /** The slice columns (`model_version` is the version of the model id). */
  readonly slices: readonly string[];
  /** Counts of the features, `prediction` and `label`, by column name. */
  readonly columns: ReadonlyMap<string, ValueCounts>;
  /** The rows with a label and a prediction, for model quality (usually few: labels arrive for some). */
  readonly labelled: PredictionBatch;
}

const DAY = 86_400_000;

/** The cell length that windows of these granularities are unions of: weeks start on a Monday, a day boundary. */
export function cellUnit(granularities: readonly Granularity[]): number {
  return Math.min(DAY, ...granularities.map((g) => (g === '1 week' ? DAY : windowLength(g))));
}

/** The version of a model id (`<model name>/<version>`). */
const versionOf = (modelId: string) => modelId.slice(modelId.lastIndexOf('/') + 1);

/** The slice value of entry `i` as text (null: the entry is in no slice of that key). */
export function sliceText(batch: CountBatch, key: number, model: number, value: unknown): string | null {
  return batch.slices[key] === 'model_version' ? versionOf(batch.models[model] ?? '') : asText(value);
}

/** Rows of a window that get metrics rows of their own: a model (or all) and a slice value (or none). */
export interface Members {
  readonly start: number;
  readonly end: number;
  /** Index of the model, or null for all models. */
  readonly model: number | null;
  readonly slice: { readonly key: number; readonly value: string } | null;
  /** Rows of the group. */
  readonly count: number;
}

/** Whether an entry of a column's counts belongs to a group (its cell is in the group's window). */
export function isMember(batch: CountBatch, vc: ValueCounts, i: number, m: Members): boolean {
  if (m.model !== null && vc.model[i] !== m.model) return false;
  return m.slice === null || sliceText(batch, m.slice.key, vc.model[i] as number, vc.slices[m.slice.key]?.[i]) === m.slice.value;
}

/** Entry numbers grouped by cell (a counting sort), and each cell's range among them. */
interface CellOrder {
  readonly order: Int32Array;
  readonly ranges: ReadonlyMap<number, readonly [number, number]>;
}

// Columns read as rows share one cell array, so they share its order.
const orders = new WeakMap<object, CellOrder>();

function cellOrder(cell: ArrayLike<number>): CellOrder {
  const known = orders.get(cell);
  if (known) return known;
  const sizes = new Map<number, number>();
  for (let i = 0; i < cell.length; i++) sizes.set(cell[i] as number, (sizes.get(cell[i] as number) ?? 0) + 1);
  const ranges = new Map<number, readonly [number, number]>();
  const next = new Map<number, number>();
  let at = 0;
  for (const [c, k] of sizes) {
    ranges.set(c, [at, at + k]);
    next.set(c, at);
    at += k;
  }
  const order = new Int32Array(cell.length);
  for (let i = 0; i < cell.length; i++) {
    const p = next.get(cell[i] as number) as number;
    order[p] = i;
    next.set(cell[i] as number, p + 1);
  }
  const found = { order, ranges };
  orders.set(cell, found);
  return found;
}

/** A column's entries by cell, found once. */
export class CellIndex {
  private readonly order: Int32Array;
  private readonly ranges: ReadonlyMap<number, readonly [number, number]>;

  public constructor(readonly counts: ValueCounts) {
    ({ order: this.order, ranges: this.ranges } = cellOrder(counts.cell));
  }

  /** Calls `f` with each entry of the cells in [start, end). */
  public each(start: number, end: number, unit: number, f: (i: number) => void): void {
    for (let c = start; c < end; c += unit) {
      const r = this.ranges.get(c);
      if (r) for (let k = r[0]; k < r[1]; k++) f(this.order[k] as number);
    }
  }

  /** The entries of the cells in [start, end). */
  public entries(start: number, end: number, unit: number): number[] {
    const out: number[] = [];
    this.each(start, end, unit, (i) => out.push(i));
    return out;
  }

  /** Entries in the cells in [start, end). */
  public size(start: number, end: number, unit: number): number {
    let n = 0;
    for (let c = start; c < end; c += unit) {
      const r = this.ranges.get(c);
      if (r) n += r[1] - r[0];
    }
    return n;
  }

  /** The cells that have entries. */
  public cells(): IterableIterator<number> {
    return this.ranges.keys();
  }
}

/** The tally of a group's values of one column (`numeric`: compared as numbers). */
export function tallyOf(batch: CountBatch, index: CellIndex, m: Members, numeric: boolean): ValueTally {
  const vc = index.counts;
  if (vc.rows === true && numeric) {
    // A column read as rows: its numbers straight into a typed array, sorted in place later.
    const values = new Float64Array(index.size(m.start, m.end, batch.unit));
    let k = 0;
    let count = 0;
    let nulls = 0;
    index.each(m.start, m.end, batch.unit, (i) => {
      if (!isMember(batch, vc, i, m)) return;
      count += 1;
      const x = asNumber(vc.value[i]);
      if (x === null) nulls += 1;
      else values[k++] = x;
    });
    return { count, nulls, values: values.subarray(0, k), counts: null };
  }
  const t = emptyTally(vc.rows === true);
  index.each(m.start, m.end, batch.unit, (i) => {
    if (isMember(batch, vc, i, m)) addToTally(t, vc.value[i], vc.count[i] as number);
  });
  return t;
}

/** The labelled rows of a group (row numbers of {@link CountBatch.labelled}). */
export function labelledRows(batch: CountBatch, m: Members): number[] {
  const rows = batch.labelled;
  const out: number[] = [];
  const sliceColumn = m.slice ? rows.columns.get(batch.slices[m.slice.key] ?? '') : undefined;
  for (let i = 0; i < rows.size; i++) {
    const t = rows.t[i] as number;
    if (t < m.start || t >= m.end) continue;
    const model = rows.model[i] as number;
    if (m.model !== null && model !== m.model) continue;
    if (m.slice && sliceText(batch, m.slice.key, model, sliceColumn?.[i]) !== m.slice.value) continue;
    out.push(i);
  }
  return out;
}

/**
 * The counts of a batch of rows, as the engine's GROUP BY gives them (tests, small reads).
 * Numbers stay numbers; other values are compared as text, as the engine reads them.
 */
export function countsOf(batch: PredictionBatch, granularities: readonly Granularity[], slices: readonly string[]): CountBatch {
  const unit = cellUnit(granularities);
  const columns = new Map<string, ValueCounts>();
  for (const [name, values] of batch.columns) {
    const groups = new Map<string, { cell: number; model: number; slices: unknown[]; value: unknown; count: number }>();
    for (let i = 0; i < batch.size; i++) {
      const cell = Math.floor((batch.t[i] as number) / unit) * unit;
      const model = batch.model[i] as number;
      const sliceValues = slices.map((s) => batch.columns.get(s)?.[i] ?? null);
      const value = values[i] ?? null;
      // Typed text: NaN and null, 1 and '1' are different values.
      const key = [cell, model, ...sliceValues, value].map((v) => `${typeof v}:${String(v)}`).join('\u0000');
      const g = groups.get(key);
      if (g) g.count += 1;
      else groups.set(key, { cell, model, slices: sliceValues, value, count: 1 });
    }
    const list = [...groups.values()];
    columns.set(name, {
      cell: list.map((g) => g.cell),
      model: list.map((g) => g.model),
      slices: slices.map((_, k) => list.map((g) => g.slices[k])),
      value: list.map((g) => g.value),
      count: list.map((g) => g.count),
    });
  }
  const labels = batch.columns.get('label') ?? [];
  const predictions = batch.columns.get('prediction') ?? [];
  const present = (v: unknown) => v !== null && v !== undefined;
  const keep: number[] = [];
  for (let i = 0; i < batch.size; i++) if (present(labels[i]) && present(predictions[i])) keep.push(i);
  const pick = <T>(a: ArrayLike<T>) => keep.map((i) => a[i] as T);
  const labelled: PredictionBatch = {
    size: keep.length,
    t: pick(batch.t),
    model: pick(batch.model),
    models: batch.models,
    columns: new Map([...batch.columns].map(([k, v]) => [k, pick(v)])),
    probabilities: batch.probabilities ? pick(batch.probabilities) : null,
  };
  return { unit, models: batch.models, slices, columns, labelled };
}
