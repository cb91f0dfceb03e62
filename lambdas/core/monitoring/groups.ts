import type { PredictionBatch } from './batch.js';
import { ALL_MODELS, SLICE_VALUES } from './columns.js';
import { asText } from './profile.js';

/** The groups of a window's rows that get metrics rows: by model and by slice. */

/** Rows of a window that get metrics rows of their own: a model (or all) and a slice (or none). */
export interface Group {
  readonly model_id: string;
  readonly slice_key: string | null;
  readonly slice_value: string | null;
  /** Row numbers in the batch. */
  readonly rows: number[];
}

/**
 * The groups of a window: every model and all models, each whole and by slice. A group with
 * all of its parent's rows shares the parent's array (one model, one slice value), so its
 * figures are computed once.
 */
export function groupsOf(batch: PredictionBatch, rows: number[], slices: readonly string[]): Group[] {
  const versions = batch.models.map((id) => id.slice(id.lastIndexOf('/') + 1));
  const models = new Map<string, number[]>([[ALL_MODELS, rows]]);
  const byModel = new Map<number, number[]>();
  for (const i of rows) {
    const m = batch.model[i] as number;
    const list = byModel.get(m) ?? [];
    if (list.length === 0) byModel.set(m, list);
    list.push(i);
  }
  for (const [m, list] of byModel) models.set(batch.models[m] as string, list.length === rows.length ? rows : list);
  const groups: Group[] = [];
  for (const [model_id, list] of models) {
    groups.push({ model_id, slice_key: null, slice_value: null, rows: list });
    for (const key of slices) {
      const column = batch.columns.get(key);
      const byValue = new Map<string, number[]>();
      for (const i of list) {
        // model_id is `<model name>/<version>`.
        const v = key === 'model_version' ? (versions[batch.model[i] as number] as string) : asText(column?.[i]);
        if (v === null) continue;
        const l = byValue.get(v) ?? [];
        if (l.length === 0) byValue.set(v, l);
        l.push(i);
      }
      const top = [...byValue.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0])).slice(0, SLICE_VALUES);
      for (const [value, l] of top) groups.push({ model_id, slice_key: key, slice_value: value, rows: l.length === list.length ? list : l });
    }
  }
  return groups;
}

/** A group's identity across windows: its model and slice. */
export const groupKey = (g: Pick<Group, 'model_id' | 'slice_key' | 'slice_value'>) => `${g.model_id}\u0000${g.slice_key ?? ''}\u0000${g.slice_value ?? ''}`;
