import { type ClassificationQuality, type RegressionQuality, classificationQuality, regressionQuality } from '../stats/quality.js';
import type { PredictionBatch } from './batch.js';
import { asNumber } from './profile.js';
import type { StatsPart } from './profile-columns.js';

/** Model quality of a group of rows, for its `:table` profile row. */

/** What a model predicts: classes or numbers. */
export type ProblemType = 'classification' | 'regression';

function parseProbabilities(value: unknown): number[] | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(Number);
  const text = String(value).trim();
  return text.startsWith('[') ? text.slice(1, -1).split(',').filter((x) => x.trim() !== '').map(Number) : null;
}

/** Quality of the labelled rows of a group (`index`, rows of `batch`), with the share of its `rows` that had a label. */
export function qualityOf(batch: PredictionBatch, index: readonly number[], rows: number, problem: ProblemType): Partial<StatsPart> {
  const labels = batch.columns.get('label') ?? [];
  const predictions = batch.columns.get('prediction') ?? [];
  const present = (v: unknown) => v !== null && v !== undefined;
  const labelled = index.filter((i) => present(labels[i]) && present(predictions[i]));
  const coverage = { labeled_count: labelled.length, label_coverage: rows ? labelled.length / rows : null };
  if (labelled.length === 0) return coverage;
  if (problem === 'regression') {
    const q: RegressionQuality = regressionQuality(
      labelled.map((i) => asNumber(labels[i]) as number),
      labelled.map((i) => asNumber(predictions[i]) as number),
    );
    return { ...coverage, ...q };
  }
  const probabilities = batch.probabilities ? labelled.map((i) => parseProbabilities(batch.probabilities?.[i])) : undefined;
  const q: ClassificationQuality = classificationQuality(
    labelled.map((i) => String(labels[i])),
    labelled.map((i) => String(predictions[i])),
    probabilities?.every((p) => p) ? probabilities : undefined,
  );
  return { ...coverage, ...q };
}
