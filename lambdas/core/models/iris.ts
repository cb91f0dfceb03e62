import { InvalidRequestError } from '../errors.js';
import { toFrame } from '../frame.js';
import { INPUT_FIELD_SET_TEXT } from '../input-formats.js';
import type { ScoringRequest } from '../protocol.js';
import model from './iris-model.json' with { type: 'json' };

/**
 * The built-in iris classifier: a multinomial logistic regression trained with
 * scikit-learn on the iris data set (`scripts/train-iris.py`). Accepts the feature names of
 * every example in the Databricks documentation (`sepal length (cm)`, `sepal_length`,
 * `sepal_length (cm)`, …) and unnamed tensors of four values.
 */
export const IRIS_FEATURES = model.features;

/** Canonical feature name: lowercase, units and punctuation dropped, words joined by `_`. */
export function canonicalFeature(name: string): string {
  let canonical = canonicalCache.get(name);
  if (canonical === undefined) {
    canonical = name
      .toLowerCase()
      .replace(/\(.*?\)/g, ' ')
      .trim()
      .split(/[\s_]+/)
      .join('_');
    if (canonicalCache.size < 1000) canonicalCache.set(name, canonical);
  }
  return canonical;
}

const canonicalCache = new Map<string, string>();

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Class probabilities for one row of four features, in sklearn's class order. */
export function irisProbabilities(x: readonly number[]): number[] {
  return softmax(model.coef.map((w, k) => w.reduce((acc, wi, i) => acc + wi * (x[i] as number), model.intercept[k] as number)));
}

function toNumber(value: unknown, column: string, row: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new InvalidRequestError(
      `Failed to enforce schema of data with schema ['${IRIS_FEATURES.join("': double, '")}': double]. Error: Incompatible input types for column ${column}: row ${row} has value ${JSON.stringify(value)}, expected a number.`,
      'BAD_REQUEST',
    );
  }
  return n;
}

/** Scores a protocol-valid request; the answer is MLflow's `{"predictions": [...]}`. */
export function predictIris(request: ScoringRequest): unknown {
  if (request.kind === 'llm') {
    throw new InvalidRequestError(`Invalid input. The iris model expects one of the input fields ${INPUT_FIELD_SET_TEXT}.`);
  }
  const frame = toFrame(request);
  let matrix: number[][];
  if (frame.columns === null) {
    matrix = frame.rows.map((row, r) => {
      if (row.length !== IRIS_FEATURES.length) {
        throw new InvalidRequestError(`Failed to enforce schema: the iris model expects ${IRIS_FEATURES.length} values per row, row ${r} has ${row.length}.`);
      }
      return row.map((v, i) => toNumber(v, IRIS_FEATURES[i] as string, r));
    });
  } else {
    const index = new Map(frame.columns.map((c, i) => [canonicalFeature(c), i]));
    const missing = IRIS_FEATURES.filter((f) => !index.has(f));
    if (missing.length > 0) {
      throw new InvalidRequestError(
        `Failed to enforce schema of data with schema ['${IRIS_FEATURES.join("', '")}']. Error: Model is missing inputs ['${missing.join("', '")}'].`,
      );
    }
    matrix = frame.rows.map((row, r) => IRIS_FEATURES.map((f) => toNumber(row[index.get(f) as number], f, r)));
  }
  const params = request.kind === 'standard' ? (request.json.params as Record<string, unknown> | undefined) : undefined;
  const probabilities = matrix.map(irisProbabilities);
  if (params?.predict_proba === true) return { predictions: probabilities };
  return {
    predictions: probabilities.map((p) => model.classes[p.indexOf(Math.max(...p))] as number),
  };
}
