import type { Granularity } from '../config/index.js';
import type { MonitoredColumn } from './batch.js';
import { CellIndex, type CountBatch, type Members, labelledRows, tallyOf } from './counts.js';
import { type DriftStatistics, driftOf } from './drift-statistics.js';
import { type Group, groupsOf } from './groups.js';
import { type Sample, type Summary, isNumericType, summarizeTally } from './profile.js';
import type { StatsPart } from './profile-columns.js';
import { type ProblemType, qualityOf } from './quality.js';
import { windowLength, windowStart } from './windows.js';

/** What one computation of metrics finds once and uses again (`compute.ts`). */

/**
 * Figures of a group's column, of a group's quality and of a pair of samples, computed once:
 * a window is compared with the next one as well, and groups can share their members.
 */
export class Figures {
  private readonly summaries = new WeakMap<Members, Map<string, Summary>>();
  private readonly qualities = new WeakMap<Members, Partial<StatsPart>>();
  private readonly drifts = new WeakMap<Sample, WeakMap<Sample, DriftStatistics | null>>();
  private readonly indexes = new Map<string, CellIndex>();

  public constructor(
    private readonly batch: CountBatch,
    private readonly problem: ProblemType,
  ) {}

  /** A column's entries by cell. */
  public index(column: string): CellIndex {
    let found = this.indexes.get(column);
    if (!found) this.indexes.set(column, (found = new CellIndex(this.batch.columns.get(column) ?? { cell: [], model: [], slices: [], value: [], count: [] })));
    return found;
  }

  /** The profile and drift sample of a group's column. */
  public summary(members: Members, c: MonitoredColumn): Summary {
    let byColumn = this.summaries.get(members);
    if (!byColumn) this.summaries.set(members, (byColumn = new Map()));
    let found = byColumn.get(c.column);
    if (!found) byColumn.set(c.column, (found = summarizeTally(tallyOf(this.batch, this.index(c.column), members, isNumericType(c.type)), c.type)));
    return found;
  }

  /** The summaries computed for a group, by column. */
  public summariesOf(members: Members): ReadonlyMap<string, Summary> | undefined {
    return this.summaries.get(members);
  }

  /** The quality figures of a group. */
  public quality(members: Members): Partial<StatsPart> {
    let q = this.qualities.get(members);
    if (!q) this.qualities.set(members, (q = qualityOf(this.batch.labelled, labelledRows(this.batch, members), members.count, this.problem)));
    return q;
  }

  /** The drift statistics of two samples. */
  public drift(base: Sample, current: Sample): DriftStatistics | null {
    let byCurrent = this.drifts.get(base);
    if (!byCurrent) this.drifts.set(base, (byCurrent = new WeakMap()));
    if (!byCurrent.has(current)) byCurrent.set(current, driftOf(base, current));
    return byCurrent.get(current) ?? null;
  }
}

/** The windows of one granularity in a batch, and their groups, found once. */
export class Windows {
  /** Rows by window start. */
  private readonly counts = new Map<number, number>();
  private readonly groupsByStart = new Map<number, Group[]>();
  private readonly length: number;

  public constructor(
    private readonly batch: CountBatch,
    private readonly rows: CellIndex,
    public readonly granularity: Granularity,
  ) {
    this.length = windowLength(granularity);
    for (const cell of rows.cells()) {
      const s = windowStart(granularity, cell);
      let n = this.counts.get(s) ?? 0;
      rows.each(cell, cell + batch.unit, batch.unit, (i) => (n += rows.counts.count[i] as number));
      this.counts.set(s, n);
    }
  }

  /** Rows of the window starting at `start`. */
  public count(start: number): number {
    return this.counts.get(start) ?? 0;
  }

  /** The groups of that window. */
  public groups(start: number): Group[] {
    let groups = this.groupsByStart.get(start);
    if (!groups) this.groupsByStart.set(start, (groups = groupsOf(this.batch, this.rows, start, start + this.length)));
    return groups;
  }

  /** The latest window of the batch before `start`, if one has rows. */
  public before(start: number): number | undefined {
    return [...this.counts.entries()].filter(([s, n]) => s < start && n > 0).sort((a, b) => b[0] - a[0])[0]?.[0];
  }
}
