import { ALL_MODELS, SLICE_VALUES } from './columns.js';
import { type CellIndex, type CountBatch, type Members, isMember, sliceText } from './counts.js';

/** The groups of a window's rows that get metrics rows: by model and by slice. */

/** Rows of a window that get metrics rows of their own: a model (or all) and a slice (or none). */
export interface Group {
  readonly model_id: string;
  readonly slice_key: string | null;
  readonly slice_value: string | null;
  readonly members: Members;
}

/**
 * The groups of the window [start, end): every model and all models, each whole and by
 * slice (its {@link SLICE_VALUES} most frequent values). Rows are counted on the
 * `prediction` column's counts (every row has one, null or not). A group with all of its
 * parent's rows shares the parent's members (one model, one slice value), so its figures are
 * computed once.
 */
export function groupsOf(batch: CountBatch, rows: CellIndex, start: number, end: number): Group[] {
  const vc = rows.counts;
  const entries = rows.entries(start, end, batch.unit);
  const all: Members = { start, end, model: null, slice: null, count: entries.reduce((n, i) => n + (vc.count[i] as number), 0) };
  const byModel = new Map<number, number>();
  for (const i of entries) byModel.set(vc.model[i] as number, (byModel.get(vc.model[i] as number) ?? 0) + (vc.count[i] as number));
  const models: [string, Members][] = [[ALL_MODELS, all]];
  for (const [m, count] of [...byModel].sort((a, b) => a[0] - b[0])) {
    models.push([batch.models[m] as string, count === all.count ? all : { start, end, model: m, slice: null, count }]);
  }
  const groups: Group[] = [];
  for (const [model_id, parent] of models) {
    groups.push({ model_id, slice_key: null, slice_value: null, members: parent });
    batch.slices.forEach((slice_key, key) => {
      const byValue = new Map<string, number>();
      for (const i of entries) {
        if (!isMember(batch, vc, i, parent)) continue;
        const v = sliceText(batch, key, vc.model[i] as number, vc.slices[key]?.[i]);
        if (v !== null) byValue.set(v, (byValue.get(v) ?? 0) + (vc.count[i] as number));
      }
      const top = [...byValue.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, SLICE_VALUES);
      for (const [value, count] of top) {
        groups.push({ model_id, slice_key, slice_value: value, members: count === parent.count ? parent : { start, end, model: parent.model, slice: { key, value }, count } });
      }
    });
  }
  return groups;
}

/** A group's identity across windows: its model and slice. */
export const groupKey = (g: Pick<Group, 'model_id' | 'slice_key' | 'slice_value'>) => `${g.model_id}\u0000${g.slice_key ?? ''}\u0000${g.slice_value ?? ''}`;
