import type { ColumnType } from '../unpacked-schema.js';

/**
 * What the metrics are computed from: the unpacked table's rows of some windows, by column,
 * and the request-level figures of the payload table.
 */

/** A column monitored: a feature, the prediction or the label. */
export interface MonitoredColumn {
  readonly column: string;
  readonly type: ColumnType;
}

/** One row of the unpacked table, as the metrics step reads it. */
export interface PredictionRow {
  readonly t: number;
  readonly model_id: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly prediction: unknown;
  readonly probabilities: readonly number[] | null;
  readonly label: unknown;
}

/** Rows by column, as the metrics step reads them (no object per row). */
export interface PredictionBatch {
  readonly size: number;
  /** Epoch ms of each row. */
  readonly t: ArrayLike<number>;
  /** Index of each row's model id in `models`. */
  readonly model: ArrayLike<number>;
  readonly models: readonly string[];
  /** The features, `prediction` and `label`, by column name. */
  readonly columns: ReadonlyMap<string, ArrayLike<unknown>>;
  /** Class probabilities of each row (arrays, or their JSON text), when read. */
  readonly probabilities: ArrayLike<unknown> | null;
}

/** A batch of rows given one by one (tests, small reads). */
export function batchOf(rows: readonly PredictionRow[], columns: readonly string[] = [...new Set(rows.flatMap((r) => Object.keys(r.values)))]): PredictionBatch {
  const models = [...new Set(rows.map((r) => r.model_id))];
  const index = new Map(models.map((m, i) => [m, i]));
  return {
    size: rows.length,
    t: rows.map((r) => r.t),
    model: rows.map((r) => index.get(r.model_id) as number),
    models,
    columns: new Map<string, unknown[]>([...columns.map((c) => [c, rows.map((r) => r.values[c])] as [string, unknown[]]), ['prediction', rows.map((r) => r.prediction)], ['label', rows.map((r) => r.label)]]),
    probabilities: rows.map((r) => r.probabilities),
  };
}

/** Request-level figures of a window, from the payload table. */
export interface TrafficFigures {
  readonly request_count: number;
  readonly error_rate: number;
  readonly latency_p50_ms: number | null;
  readonly latency_p99_ms: number | null;
  /** Why the window's figures may be short (payload files of its days in quarantine when it was computed); null when complete. */
  readonly partial_reason?: string | null;
}
