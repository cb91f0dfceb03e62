import { unpackRequest } from './unpack.js';
import {
  type ColumnType,
  type FeatureColumn,
  type Signature,
  columnTypeOf,
  declaredColumns,
  featureColumnName,
  fits,
  storedValue,
  valueType,
  widen,
} from './unpacked-schema.js';

/** The payload file columns the unpack step reads (`date` is a partition, taken from the file's key). */
export const PAYLOAD_COLUMNS_READ = ['request_id', 'client_request_id', 'timestamp_ms', 'status_code', 'request', 'response', 'request_metadata'] as const;
/** The payload columns the unpack reads when the file has them (files of earlier releases lack them): an LLM call's tokens and timing. */
export const PAYLOAD_CALL_COLUMNS = ['input_tokens', 'output_tokens', 'time_to_first_token_ms', 'execution_time_ms'] as const;
/** What decides, before the bodies are read, whether the engine unpacks a row (files of earlier releases lack `request_format`). */
export const PAYLOAD_ROUTING_COLUMNS = ['status_code', 'request_format'] as const;

/** A payload row as read from a captured file. */
export interface CapturedRow {
  readonly request_id: string;
  readonly client_request_id: string | null;
  readonly timestamp_ms: number | bigint;
  readonly status_code: number;
  readonly request: string | null;
  readonly response: string | null;
  readonly request_metadata: Readonly<Record<string, string>> | null;
  readonly date: string;
  readonly input_tokens?: number | bigint | null;
  readonly output_tokens?: number | bigint | null;
  readonly time_to_first_token_ms?: number | bigint | null;
  readonly execution_time_ms?: number | bigint | null;
}

/**
 * One prediction staged for the table, as one line of JSON: the fixed keys, then one key per
 * feature column, then `prediction` and `probabilities`. Written as text directly, because
 * building an object per row with its feature keys costs more than the rest of the unpack.
 */
export type StagedPredictionLine = string;

/** A request (or one of its rows) that could not be unpacked, with the reason. */
export interface StagedReject {
  readonly request_id: string;
  readonly client_request_id: string | null;
  readonly row_index: number | null;
  readonly timestamp_ms: number;
  readonly date: string;
  readonly model_name: string | null;
  readonly model_version: string | null;
  readonly reason: string;
}

/** What unpacking a set of payload rows found; small enough to pass between workflow states. */
export interface UnpackSummary {
  /** Payload rows read. */
  requests: number;
  /** Rows of non-2xx requests, which have no predictions. */
  skipped_status: number;
  predictions: number;
  rejected: number;
  /** Type seen for each feature (null: only nulls). */
  features: Record<string, ColumnType | null>;
  prediction_type: ColumnType | null;
  /** Where the data disagreed with the declared signature, with a count. */
  disagreements: Record<string, number>;
  /** UTC dates of the predictions and rejects. */
  dates: string[];
  /** Starts (epoch ms) of the UTC hours with new predictions: the metrics windows to recompute. */
  hours: number[];
  max_timestamp_ms: number;
  /** Payload files that could not be read, moved aside (`_quarantine/`) with the reason. */
  quarantined: QuarantinedFile[];
  /** Payload rows left to the engine's unpack (`unpack-sql.ts`); absent in summaries of earlier releases. */
  engine_rows?: number;
}

/** A payload file the unpack could not read, moved out of its table. */
export interface QuarantinedFile {
  /** Where it was (its key in the table). */
  readonly key: string;
  /** Where it is now. */
  readonly quarantine: string;
  readonly reason: string;
}

const HOUR = 3_600_000;

/** An empty summary. */
export function emptySummary(): UnpackSummary {
  return { requests: 0, skipped_status: 0, predictions: 0, rejected: 0, features: {}, prediction_type: null, disagreements: {}, dates: [], hours: [], max_timestamp_ms: 0, quarantined: [] };
}

/** Adds one summary into another (for the summaries of many tasks). */
export function addSummary(into: UnpackSummary, more: UnpackSummary): UnpackSummary {
  into.requests += more.requests;
  into.skipped_status += more.skipped_status;
  into.predictions += more.predictions;
  into.rejected += more.rejected;
  for (const [f, t] of Object.entries(more.features)) into.features[f] = widen(into.features[f] ?? null, t);
  into.prediction_type = widen(into.prediction_type, more.prediction_type);
  for (const [k, n] of Object.entries(more.disagreements)) into.disagreements[k] = (into.disagreements[k] ?? 0) + n;
  into.dates = [...new Set([...into.dates, ...more.dates])].sort();
  into.hours = [...new Set([...into.hours, ...(more.hours ?? [])])].sort((a, b) => a - b);
  into.max_timestamp_ms = Math.max(into.max_timestamp_ms, more.max_timestamp_ms);
  // Summaries staged by an earlier release have no list of quarantined files.
  into.quarantined = [...(into.quarantined ?? []), ...(more.quarantined ?? [])];
  into.engine_rows = (into.engine_rows ?? 0) + (more.engine_rows ?? 0);
  return into;
}

/** The declared outcome type when the signature has exactly one output. */
function declaredPredictionType(signature: Signature | undefined): ColumnType | null {
  const outputs = signature?.outputs;
  return outputs?.length === 1 ? columnTypeOf((outputs[0] as { type: Parameters<typeof columnTypeOf>[0] }).type) : null;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Where each column of a request header goes, and what every row with it disagrees on. */
interface ColumnPlan {
  /** By position: the stored column (with its declared type, or null when inferred), or undefined when not stored. */
  readonly targets: readonly ({ feature: string; column: string; type: ColumnType | null; key: string } | undefined)[];
  /** Disagreements counted once per row: undeclared, colliding or missing features. */
  readonly disagreements: readonly string[];
}

function planColumns(columns: readonly string[], declared: readonly FeatureColumn[] | undefined, byFeature: ReadonlyMap<string, FeatureColumn>): ColumnPlan {
  const disagreements: string[] = [];
  const used = new Set<string>();
  const targets = columns.map((feature) => {
    if (declared) {
      const column = byFeature.get(feature);
      if (!column) disagreements.push(`undeclared feature '${feature}'`);
      return column && { feature, column: column.column, type: column.type, key: `,${JSON.stringify(column.column)}:` };
    }
    const column = featureColumnName(feature);
    if (used.has(column)) {
      disagreements.push(`feature '${feature}' has the column name of another feature`);
      return undefined;
    }
    used.add(column);
    return { feature, column, type: null, key: `,${JSON.stringify(column)}:` };
  });
  const present = new Set(columns);
  for (const c of declared ?? []) if (!present.has(c.feature)) disagreements.push(`declared feature '${c.feature}' missing`);
  return { targets, disagreements };
}

/**
 * Unpacks captured payload rows into staged predictions and rejects. Only 2xx requests have
 * predictions. With a declared signature, a value that does not fit its declared type rejects
 * that row with the reason (it is never cast silently); features the signature does not
 * declare are counted as disagreements and not stored. Without one, every feature is kept and
 * its type is inferred (widened over all values seen).
 */
export function unpackCapturedRows(rows: Iterable<CapturedRow>, signature?: Signature): { predictions: StagedPredictionLine[]; rejects: StagedReject[]; summary: UnpackSummary } {
  const declared = signature ? declaredColumns(signature) : undefined;
  const byFeature = new Map<string, FeatureColumn>(declared?.map((c) => [c.feature, c]));
  const outcomeType = declaredPredictionType(signature);
  const summary = emptySummary();
  const dates = new Set<string>();
  const hours = new Set<number>();
  const predictions: StagedPredictionLine[] = [];
  const rejects: StagedReject[] = [];
  const disagree = (key: string) => (summary.disagreements[key] = (summary.disagreements[key] ?? 0) + 1);
  // Requests repeat the same few headers: decide once per header where each column goes.
  const plans = new Map<string, ColumnPlan>();
  const planFor = (columns: readonly string[]): ColumnPlan => {
    const key = columns.join('\u0000');
    let plan = plans.get(key);
    if (!plan) plans.set(key, (plan = planColumns(columns, declared, byFeature)));
    return plan;
  };

  for (const row of rows) {
    summary.requests++;
    if (row.status_code < 200 || row.status_code > 299) {
      summary.skipped_status++;
      continue;
    }
    const timestampMs = Number(row.timestamp_ms);
    const meta = row.request_metadata ?? {};
    const base = {
      request_id: row.request_id,
      client_request_id: row.client_request_id,
      timestamp_ms: timestampMs,
      date: row.date,
      model_name: meta.model_name ?? null,
      model_version: meta.model_version ?? null,
    };
    const reject = (reason: string, rowIndex: number | null) => {
      rejects.push({ ...base, row_index: rowIndex, reason });
      summary.rejected++;
      dates.add(row.date);
    };
    const result = unpackRequest(row.request, row.response, signature, row);
    if (!result.ok) {
      reject(result.reason, null);
      continue;
    }
    const plan = planFor(result.columns);
    // The keys every row of this request shares, up to its row index.
    const head = `${JSON.stringify(base).slice(0, -1)},"row_index":`;
    for (const p of result.rows) {
      let line = head + p.row_index;
      let problem: string | undefined;
      for (let j = 0; j < plan.targets.length; j++) {
        const target = plan.targets[j];
        if (target === undefined) continue;
        const value = p.values[j];
        if (target.type !== null) {
          if (!fits(value, target.type)) {
            disagree(`feature '${target.feature}' declared ${target.type}`);
            problem ??= `feature '${target.feature}' is declared ${target.type} but the request sent ${describe(value)}`;
            continue;
          }
          line += target.key + JSON.stringify(storedValue(value));
        } else {
          const stored = storedValue(value);
          summary.features[target.feature] = widen(summary.features[target.feature] ?? null, valueType(stored));
          line += target.key + JSON.stringify(stored);
        }
      }
      for (const d of plan.disagreements) disagree(d);
      const prediction = storedValue(p.prediction);
      if (outcomeType && !fits(prediction, outcomeType)) {
        disagree(`prediction declared ${outcomeType}`);
        problem ??= `prediction is declared ${outcomeType} but the model answered ${describe(p.prediction)}`;
      }
      if (problem) {
        reject(problem, p.row_index);
        continue;
      }
      line += `,"prediction":${JSON.stringify(prediction)},"probabilities":${JSON.stringify(p.probabilities)}}`;
      summary.prediction_type = widen(summary.prediction_type, outcomeType ?? valueType(prediction));
      predictions.push(line);
      summary.predictions++;
      dates.add(row.date);
      hours.add(Math.floor(timestampMs / HOUR) * HOUR);
      summary.max_timestamp_ms = Math.max(summary.max_timestamp_ms, timestampMs);
    }
  }
  summary.hours = [...hours].sort((a, b) => a - b);
  if (declared) for (const c of declared) summary.features[c.feature] = c.type;
  summary.dates = [...dates].sort();
  return { predictions, rejects, summary };
}
