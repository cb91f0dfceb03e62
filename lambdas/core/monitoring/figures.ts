import type { Granularity } from '../config/index.js';
import type { MonitoredColumn, PredictionBatch } from './batch.js';
import { type DriftStatistics, driftOf } from './drift-statistics.js';
import { type Group, groupsOf } from './groups.js';
import { type Sample, type Summary, summarize } from './profile.js';
import type { StatsPart } from './profile-columns.js';
import { type ProblemType, qualityOf } from './quality.js';
import { windowStart } from './windows.js';

/** What one computation of metrics finds once and uses again (`compute.ts`). */

/**
 * Figures of a group's column, of a group's quality and of a pair of samples, computed once:
 * a window is compared with the next one as well, and groups can share their rows.
 */
export class Figures {
  private readonly summaries = new WeakMap<number[], Map<string, Summary>>();
  private readonly qualities = new WeakMap<number[], Partial<StatsPart>>();
  private readonly drifts = new WeakMap<Sample, WeakMap<Sample, DriftStatistics | null>>();

  public constructor(
    private readonly batch: PredictionBatch,
    private readonly problem: ProblemType,
  ) {}

  /** The profile and drift sample of a column over these rows. */
  public summary(rows: number[], c: MonitoredColumn): Summary {
    let byColumn = this.summaries.get(rows);
    if (!byColumn) this.summaries.set(rows, (byColumn = new Map()));
    let found = byColumn.get(c.column);
    if (!found) byColumn.set(c.column, (found = summarize(this.batch.columns.get(c.column) ?? [], rows, c.type)));
    return found;
  }

  /** The summaries computed for these rows, by column. */
  public summariesOf(rows: number[]): ReadonlyMap<string, Summary> | undefined {
    return this.summaries.get(rows);
  }

  /** The quality figures of these rows. */
  public quality(rows: number[]): Partial<StatsPart> {
    let q = this.qualities.get(rows);
    if (!q) this.qualities.set(rows, (q = qualityOf(this.batch, rows, this.problem)));
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

/** The rows of one granularity's windows, and their groups, found once. */
export class Windows {
  /** Row numbers by window start, in the order windows first appear in the batch. */
  private readonly rowsByStart = new Map<number, number[]>();
  private readonly groupsByStart = new Map<number, Group[]>();

  public constructor(
    private readonly batch: PredictionBatch,
    public readonly granularity: Granularity,
    private readonly slices: readonly string[],
  ) {
    for (let i = 0; i < batch.size; i++) {
      const s = windowStart(granularity, batch.t[i] as number);
      const l = this.rowsByStart.get(s) ?? [];
      if (l.length === 0) this.rowsByStart.set(s, l);
      l.push(i);
    }
  }

  /** The rows of the window starting at `start`. */
  public rows(start: number): number[] {
    return this.rowsByStart.get(start) ?? [];
  }

  /** The groups of that window. */
  public groups(start: number): Group[] {
    let groups = this.groupsByStart.get(start);
    if (!groups) this.groupsByStart.set(start, (groups = groupsOf(this.batch, this.rows(start), this.slices)));
    return groups;
  }

  /** The latest window of the batch before `start`, if one has rows. */
  public before(start: number): number | undefined {
    return [...this.rowsByStart.keys()].filter((s) => s < start).sort((a, b) => b - a)[0];
  }
}
