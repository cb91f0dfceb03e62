import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalFeature, irisProbabilities, predictIris } from '../../lambdas/core/models/iris.js';
import { parseScoringRequest } from '../../lambdas/core/protocol.js';
import { ROOT } from '../helpers/config.js';

// Made by scripts/train-iris.py with scikit-learn.
const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/iris-predictions.json'), 'utf8')) as {
  inputs: number[][];
  predictions: number[];
  probabilities: number[][];
};

describe('The built-in iris classifier', () => {
  it('predicts what scikit-learn predicts, probabilities within 1e-9', () => {
    const out = predictIris(parseScoringRequest('application/json', JSON.stringify({ inputs: fixture.inputs }))) as { predictions: number[] };
    expect(out.predictions).toEqual(fixture.predictions);
    fixture.inputs.forEach((x, i) => {
      irisProbabilities(x).forEach((p, k) => expect(p).toBeCloseTo(fixture.probabilities[i]?.[k] as number, 9));
    });
  });

  it('accepts the feature names of every documentation example', () => {
    for (const name of ['sepal length (cm)', 'sepal_length (cm)', 'sepal_length', 'Sepal Length']) expect(canonicalFeature(name)).toBe('sepal_length');
    const body = { dataframe_split: { columns: ['petal width (cm)', 'sepal length (cm)', 'sepal width (cm)', 'petal length (cm)'], data: [[0.2, 5.1, 3.5, 1.4]] } };
    expect(predictIris(parseScoringRequest('application/json', JSON.stringify(body)))).toEqual({ predictions: [0] });
  });

  it('scores CSV with a header', () => {
    const csv = 'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n6.9,3.1,5.4,2.1\n';
    expect(predictIris(parseScoringRequest('text/csv', csv))).toEqual({ predictions: [0, 2] });
  });

  it('returns probabilities when asked', () => {
    const out = predictIris(parseScoringRequest('application/json', '{"inputs": [[5.1, 3.5, 1.4, 0.2]], "params": {"predict_proba": true}}')) as {
      predictions: number[][];
    };
    expect(out.predictions[0]?.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('names missing features and non-numeric values', () => {
    expect(() => predictIris(parseScoringRequest('application/json', '{"dataframe_records": [{"sepal_length": 1}]}'))).toThrow(
      /Model is missing inputs \['sepal_width', 'petal_length', 'petal_width'\]/,
    );
    expect(() => predictIris(parseScoringRequest('application/json', '{"inputs": [[1, 2, "x", 4]]}'))).toThrow(/petal_length/);
    expect(() => predictIris(parseScoringRequest('application/json', '{"inputs": [[1, 2, 3]]}'))).toThrow(/expects 4 values/);
  });
});
