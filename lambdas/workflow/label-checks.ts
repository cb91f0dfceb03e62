import { log } from '../core/log.js';
import { tableName } from '../core/names.js';
import type { QueryEngine } from '../core/ports.js';
import { labelChecksSql, refusedLabelsSql } from '../core/refresh-sql.js';
import type { ColumnType } from '../core/unpacked-schema.js';
import { REFRESH_ROOT, type RefreshDeps, readJson, tableRef, writeJson } from './steps.js';

/**
 * What the labels of an endpoint hold that cannot be joined: labels that cannot be read as
 * the predictions' type (kept out of the table, never replacing a good label) and labels of
 * ids that match no prediction (a typo, a request not sampled, or one not yet refreshed).
 */
export interface LabelFindings {
  readonly refused: number;
  /** The most recent refused labels, to name. */
  readonly examples: readonly { readonly client_request_id: string; readonly row_index: number; readonly label: string | null; readonly uploaded_at: string }[];
  readonly unmatched: number;
  readonly prediction_type: ColumnType;
  readonly checked_at: string;
}

/** Where an endpoint's label findings are kept (read by the health checks). */
export const labelFindingsKey = (endpoint: string) => `${REFRESH_ROOT}/state/${endpoint}.labels.json`;

/** Counts an endpoint's refused and unmatched labels, and records them. */
export async function checkLabels(deps: RefreshDeps, engine: QueryEngine, endpoint: string, predictionType: ColumnType): Promise<LabelFindings> {
  const plan = {
    labels: tableRef(deps, tableName(endpoint, 'labels'), ''),
    unpacked: tableRef(deps, tableName(endpoint, 'unpacked'), ''),
    predictionType,
  };
  const [counts] = (await engine.query(labelChecksSql(plan))).rows;
  const refused = Number(counts?.refused ?? 0);
  const examples = refused > 0 ? (await engine.query(refusedLabelsSql(plan))).rows : [];
  const findings: LabelFindings = {
    refused,
    examples: examples.map((r) => ({ client_request_id: String(r.client_request_id), row_index: Number(r.row_index), label: r.label === null ? null : String(r.label), uploaded_at: String(r.uploaded_at) })),
    unmatched: Number(counts?.unmatched ?? 0),
    prediction_type: predictionType,
    checked_at: (deps.now?.() ?? new Date()).toISOString(),
  };
  await writeJson(deps.store, labelFindingsKey(endpoint), findings);
  if (refused > 0) log('warn', 'labels that cannot be read as the predictions type were kept out of the table', { endpoint, refused, type: predictionType });
  return findings;
}

/** The last recorded label findings of an endpoint, if any. */
export function readLabelFindings(deps: Pick<RefreshDeps, 'store'>, endpoint: string): Promise<LabelFindings | undefined> {
  return readJson<LabelFindings>(deps.store, labelFindingsKey(endpoint));
}
