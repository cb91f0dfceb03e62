import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaptureRecord } from '../../lambdas/core/capture-record.js';
import { setLogLevel } from '../../lambdas/core/log.js';
import { FileObjectStore } from '../../lambdas/adapters/local/file-object-store.js';
import { normalizeLabelsFile } from '../../lambdas/adapters/local/labels-file.js';
import { runLocalRefresh } from '../helpers/local.js';
import { type LocalStack } from '../../lambdas/wiring/local.js';
import { startLocalStack } from '../helpers/local.js';
import { ROOT, configWith, demoConfig } from '../helpers/config.js';
import { queryRows } from '../helpers/query.js';

const config = demoConfig();
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const iris = JSON.parse(readFileSync(join(FIXTURES, 'iris-predictions.json'), 'utf8')) as { inputs: number[][]; predictions: number[] };
const quality = JSON.parse(readFileSync(join(FIXTURES, 'stats', 'quality-expected.json'), 'utf8')) as {
  cases: Record<string, { labels: string[]; expected: { accuracy_score: number; f1_score: { macro: number; weighted: number }; confusion_matrix: number[][] } }>;
};
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];

let dir: string;
let stack: LocalStack;

const rows = (sql: string) => queryRows(dir, config, sql);

async function uploadLabels(name: string, labels: readonly string[], from: number) {
  const path = join(dir, name);
  await writeFile(path, ['client_request_id,row_index,label', ...labels.map((l, i) => `demo-1,${from + i},${l}`)].join('\n'));
  const file = await normalizeLabelsFile(path, 'iris');
  await new FileObjectStore(dir).put(file.key, file.body);
}

const refresh = () => runLocalRefresh({ config, dataDir: dir, endpoints: ['iris'], projectRoot: ROOT });

const tableRow = () =>
  rows(`SELECT accuracy_score, f1_score, confusion_matrix, labeled_count, label_coverage, "count", request_count, error_rate
        FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND granularity = '1 day' AND slice_key IS NULL`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-monitoring-'));
  stack = await startLocalStack({ config, dataDir: dir, port: 0, bufferIntervalSeconds: 0, scheduleRefresh: false });
  const body = JSON.stringify({ client_request_id: 'demo-1', dataframe_split: { columns: FEATURES, data: iris.inputs } });
  const res = await fetch(`${stack.server.url}/serving-endpoints/iris/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { predictions: number[] }).predictions).toEqual(iris.predictions);
  await stack.stream.flush();
});

afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('monitoring metrics on the local stack', () => {
  const first = quality.cases.iris_first_15 as (typeof quality.cases)[string];
  const all = quality.cases.iris_all_25 as (typeof quality.cases)[string];

  it('computes accuracy equal to scikit-learn on the labelled predictions, with the share labelled', async () => {
    await uploadLabels('first.csv', first.labels, 0);
    await refresh();
    const [row] = await tableRow();
    expect(row?.accuracy_score).toBeCloseTo(first.expected.accuracy_score, 12);
    expect((row?.f1_score as { macro: number }).macro).toBeCloseTo(first.expected.f1_score.macro, 12);
    expect((row?.confusion_matrix as { matrix: unknown[][] }).matrix.map((r) => r.map(Number))).toEqual(first.expected.confusion_matrix);
    expect(row).toMatchObject({ labeled_count: 15, label_coverage: 15 / 25, count: 25, request_count: 1, error_rate: 0 });
  });

  it('recomputes the window when labels arrive late', async () => {
    await uploadLabels('late.csv', all.labels.slice(15), 15);
    await refresh();
    const [row] = await tableRow();
    expect(row?.accuracy_score).toBeCloseTo(all.expected.accuracy_score, 12);
    expect(row).toMatchObject({ labeled_count: 25, label_coverage: 1 });
    // The window's rows were replaced, not added to.
    expect(await rows(`SELECT count(*) AS n FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND granularity = '1 day' AND slice_key IS NULL`)).toEqual([{ n: 1 }]);
  });

  it('profiles every column, per model and slice', async () => {
    const profile = await rows(`SELECT column_name, "count", num_nulls, avg, "min", "max", median, quantiles, distinct_count FROM iris_profile_metrics
                                WHERE model_id = '*' AND granularity = '1 hour' AND slice_key IS NULL AND column_name <> ':table' ORDER BY column_name`);
    expect(profile.map((r) => r.column_name)).toEqual(['label', 'petal_length', 'petal_width', 'prediction', 'sepal_length', 'sepal_width']);
    const sepal = profile.find((r) => r.column_name === 'sepal_length') as Record<string, unknown>;
    const values = iris.inputs.map((r) => r[0] as number).sort((a, b) => a - b);
    expect(sepal).toMatchObject({ count: 25, num_nulls: 0, min: values[0], max: values.at(-1) });
    expect(sepal.avg).toBeCloseTo(values.reduce((a, b) => a + b, 0) / 25, 12);
    expect(sepal.median).toBe(values[12]);
    expect((sepal.quantiles as number[]).length).toBe(11);
    const slices = await rows(`SELECT DISTINCT slice_key, slice_value FROM iris_profile_metrics WHERE slice_key IS NOT NULL`);
    expect(slices.length).toBeGreaterThan(0);
    expect(slices.every((s) => s.slice_key === 'model_version')).toBe(true);
  });

  it('has BASELINE drift rows for every feature and the prediction, with sample sizes and a verdict', async () => {
    const drift = await rows(`SELECT column_name, data_type, ks_test, chi_squared_test, js_distance, wasserstein_distance, population_stability_index, base_count, current_count, verdict
                              FROM iris_drift_metrics WHERE drift_type = 'BASELINE' AND model_id = '*' AND granularity = '1 day' AND slice_key IS NULL ORDER BY column_name`);
    expect(drift.map((r) => r.column_name)).toEqual(['petal_length', 'petal_width', 'prediction', 'sepal_length', 'sepal_width']);
    for (const r of drift) {
      expect(r).toMatchObject({ base_count: 150, current_count: 25 });
      expect(['DRIFT', 'NO_DRIFT']).toContain(r.verdict);
      expect(r.js_distance).toBeGreaterThanOrEqual(0);
    }
    const sepal = drift.find((r) => r.column_name === 'sepal_length') as Record<string, unknown>;
    expect(sepal.ks_test).toMatchObject({ statistic: expect.any(Number), pvalue: expect.any(Number) });
    expect(sepal.chi_squared_test).toBeNull();
  });

  it('has CONSECUTIVE drift rows once a window has a previous one', async () => {
    // A second request in the next hour's window, recorded as the proxy would have.
    const earlier = await rows(`SELECT min("timestamp") AS t FROM iris_unpacked`);
    const base = Date.parse(`${String(earlier[0]?.t).replace(' ', 'T')}Z`);
    const next = Math.floor(base / 3_600_000) * 3_600_000 + 3_600_000 + 60_000;
    const payload = (await rows(`SELECT * FROM iris_payload LIMIT 1`))[0] as unknown as CaptureRecord;
    const date = new Date(next).toISOString().slice(0, 10);
    await stack.sink.put([
      {
        ...payload,
        request_id: 'later-1',
        client_request_id: 'later-1',
        timestamp_ms: next,
        request_time: new Date(next).toISOString().replace('T', ' ').slice(0, 23),
        date,
        logging_error_codes: [],
      },
    ]);
    await stack.stream.flush();
    const firstHour = () => rows(`SELECT run_id FROM iris_profile_metrics WHERE column_name = ':table' AND model_id = '*' AND slice_key IS NULL AND granularity = '1 hour' AND window_start = TIMESTAMP '${new Date(Math.floor(base / 3_600_000) * 3_600_000).toISOString().replace('T', ' ').slice(0, 19)}'`);
    const before = await firstHour();
    expect(before).toHaveLength(1);
    await refresh();
    // Only the hours with new rows (and their day) are computed again.
    expect(await firstHour()).toEqual(before);
    const consecutive = await rows(`SELECT column_name, window_cmp, base_count, current_count FROM iris_drift_metrics
                                    WHERE drift_type = 'CONSECUTIVE' AND model_id = '*' AND granularity = '1 hour' AND slice_key IS NULL ORDER BY column_name`);
    expect(consecutive.map((r) => r.column_name)).toEqual(['petal_length', 'petal_width', 'prediction', 'sepal_length', 'sepal_width']);
    expect(consecutive[0]).toMatchObject({ base_count: 25, current_count: 25 });
  });

  it('compares with a time range of the endpoint\'s own predictions when that is the baseline', async () => {
    const first = await rows(`SELECT min("timestamp") AS t FROM iris_unpacked`);
    const hourStart = Math.floor(Date.parse(`${String(first[0]?.t).replace(' ', 'T')}Z`) / 3_600_000) * 3_600_000;
    const ranged = configWith((c) => (c.endpoints[0].monitoring.baseline = { from: new Date(hourStart).toISOString(), to: new Date(hourStart + 3_600_000).toISOString() }));
    const payload = (await rows(`SELECT * FROM iris_payload WHERE request_id <> 'later-1' LIMIT 1`))[0] as unknown as CaptureRecord;
    const at = hourStart + 2 * 3_600_000 + 60_000;
    await stack.sink.put([{ ...payload, request_id: 'even-later', client_request_id: 'even-later', timestamp_ms: at, request_time: new Date(at).toISOString().replace('T', ' ').slice(0, 23), date: new Date(at).toISOString().slice(0, 10), logging_error_codes: [] }]);
    await stack.stream.flush();
    await runLocalRefresh({ config: ranged, dataDir: dir, endpoints: ['iris'], projectRoot: ROOT });
    const baseline = await rows(`SELECT column_name, base_count, current_count FROM iris_drift_metrics
                                 WHERE drift_type = 'BASELINE' AND granularity = '1 hour' AND model_id = '*' AND slice_key IS NULL AND window_start = TIMESTAMP '${new Date(hourStart + 2 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19)}' ORDER BY column_name`);
    expect(baseline.map((r) => r.column_name)).toEqual(['petal_length', 'petal_width', 'prediction', 'sepal_length', 'sepal_width']);
    expect(baseline[0]).toMatchObject({ base_count: 25, current_count: 25 });
  });

  it('compares with a table of the environment when that is the baseline, and skips BASELINE rows when it cannot be read', async () => {
    const next = async (id: string, hoursAfter: number) => {
      const first = await rows(`SELECT min("timestamp") AS t FROM iris_unpacked`);
      const at = Math.floor(Date.parse(`${String(first[0]?.t).replace(' ', 'T')}Z`) / 3_600_000) * 3_600_000 + hoursAfter * 3_600_000 + 60_000;
      const payload = (await rows(`SELECT * FROM iris_payload WHERE request_id NOT IN ('later-1', 'even-later') LIMIT 1`))[0] as unknown as CaptureRecord;
      await stack.sink.put([{ ...payload, request_id: id, client_request_id: id, timestamp_ms: at, request_time: new Date(at).toISOString().replace('T', ' ').slice(0, 23), date: new Date(at).toISOString().slice(0, 10), logging_error_codes: [] }]);
      await stack.stream.flush();
      return new Date(Math.floor(at / 3_600_000) * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
    };
    const baselineRows = (window: string) =>
      rows(`SELECT column_name, base_count FROM iris_drift_metrics WHERE drift_type = 'BASELINE' AND granularity = '1 hour' AND model_id = '*' AND slice_key IS NULL AND window_start = TIMESTAMP '${window}' ORDER BY column_name`);
    // Another table of the database with the same columns: here the endpoint's own unpacked rows.
    let window = await next('table-baseline', 3);
    const before = Number((await rows(`SELECT count(*) AS n FROM iris_unpacked`))[0]?.n);
    await runLocalRefresh({ config: configWith((c) => (c.endpoints[0].monitoring.baseline = { table: 'iris_unpacked' })), dataDir: dir, endpoints: ['iris'], projectRoot: ROOT });
    // Read after the run's commit: the table already has the run's 25 new rows.
    expect((await baselineRows(window))[0]).toMatchObject({ column_name: 'petal_length', base_count: before + 25 });
    // A baseline file that is not there: the run succeeds, without BASELINE rows for its windows.
    window = await next('no-baseline', 4);
    const result = await runLocalRefresh({ config: configWith((c) => (c.endpoints[0].monitoring.baseline = { file: 'config/baselines/missing.csv' })), dataDir: dir, endpoints: ['iris'], projectRoot: ROOT });
    expect(result.reports[0]).toMatchObject({ predictions: 25 });
    expect(await baselineRows(window)).toEqual([]);
    expect(await rows(`SELECT count(*) AS n FROM iris_drift_metrics WHERE drift_type = 'CONSECUTIVE' AND window_start = TIMESTAMP '${window}'`)).not.toEqual([{ n: 0 }]);
  });

  it('raises an alert when accuracy falls below its floor, and keeps one row per window on a rerun', async () => {
    const alerts = await rows(`SELECT kind, metric, value, threshold FROM iris_alerts WHERE kind = 'quality' AND granularity = '1 day'`);
    expect(alerts).toEqual([{ kind: 'quality', metric: 'accuracy_score', value: all.expected.accuracy_score, threshold: 0.8 }]);
  });

  it('writes each alert as one console line', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    // The tests log errors only; alerts are warnings.
    setLogLevel('warn');
    try {
      // New labels for the day recompute its windows, and the accuracy alert with them.
      await uploadLabels('again.csv', all.labels.slice(0, 1), 0);
      await refresh();
    } finally {
      setLogLevel('error');
      process.stderr.write = write;
    }
    const alert = lines.map((l) => JSON.parse(l) as { level: string; message: string; kind?: string }).find((l) => l.message.startsWith('ALERT iris: accuracy_score'));
    expect(alert).toMatchObject({ level: 'warn', kind: 'quality', message: expect.stringMatching(/^ALERT iris: accuracy_score 0\.\d{4} is below 0\.8$/) });
  });
});
