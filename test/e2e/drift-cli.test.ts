import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, sqlString } from '../../lambdas/adapters/local/duckdb.js';
import type { ColumnDrift } from '../../lambdas/core/monitoring/index.js';
import { cli } from '../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'stats');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'drift-expected.json'), 'utf8')) as { sets: Record<string, Record<string, Record<string, unknown>>> };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'it-drift-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function within(actual: number | null | undefined, want: number): void {
  const tolerance = Math.abs(want) < 1e-3 ? 1e-6 * Math.abs(want) + 1e-300 : 1e-6;
  expect(Math.abs((actual as number) - want), `${actual} vs ${want}`).toBeLessThanOrEqual(tolerance);
}

function check(rows: ColumnDrift[], set: string): void {
  const want = expected.sets[set] as Record<string, Record<string, unknown>>;
  expect(rows.map((r) => r.column).sort()).toEqual(Object.keys(want).sort());
  for (const row of rows) {
    const w = want[row.column] as Record<string, unknown>;
    expect(row.kind).toBe(w.kind);
    expect([row.base_count, row.current_count]).toEqual([w.base_count, w.current_count]);
    for (const key of ['js_distance', 'population_stability_index', 'wasserstein_distance', 'tv_distance', 'l_infinity_distance'] as const) {
      if (key in w) within(row[key], w[key] as number);
    }
    for (const key of ['ks_test', 'chi_squared_test'] as const) {
      if (!(key in w)) continue;
      within(row[key]?.statistic, (w[key] as { statistic: number }).statistic);
      within(row[key]?.pvalue, (w[key] as { pvalue: number }).pvalue);
    }
  }
}

describe('inference-tables drift', () => {
  for (const set of Object.keys(expected.sets)) {
    it(`matches scipy on the ${set} fixture (CSV)`, async () => {
      const r = await cli('drift', '--baseline', join(FIXTURES, `${set}-baseline.csv`), '--current', join(FIXTURES, `${set}-current.csv`), '--format', 'json');
      expect(r.code, r.err).toBe(0);
      check(JSON.parse(r.out) as ColumnDrift[], set);
    });
  }

  it('reads Parquet files to the same values', async () => {
    const { instance, connection } = await openDuckDb();
    for (const side of ['baseline', 'current']) {
      await connection.run(`COPY (SELECT * FROM read_csv(${sqlString(join(FIXTURES, `small-${side}.csv`))})) TO ${sqlString(join(dir, `${side}.parquet`))} (FORMAT parquet)`);
    }
    connection.closeSync();
    instance.closeSync();
    const r = await cli('drift', '--baseline', join(dir, 'baseline.parquet'), '--current', join(dir, 'current.parquet'), '--format', 'json');
    expect(r.code, r.err).toBe(0);
    check(JSON.parse(r.out) as ColumnDrift[], 'small');
  });

  it('prints a table with a verdict per column, adjusting for the columns tested', async () => {
    const r = await cli('drift', '--baseline', join(FIXTURES, 'large-baseline.csv'), '--current', join(FIXTURES, 'large-current.csv'));
    expect(r.code, r.err).toBe(0);
    const line = (c: string) => r.out.split('\n').find((l) => l.includes(` ${c} `)) ?? '';
    // Shifted by 0.3 sd: significant and large enough.
    expect(line('shifted')).toMatch(/ DRIFT /);
    // Categories moved by two points over 20,000 values: p = 0.0006, significant even after
    // adjustment, and a JS distance of 0.024, far below 0.1.
    expect(line('tier')).toMatch(/NO_DRIFT/);
    // 50 current values: below the default of 100.
    expect(line('few')).toMatch(/INSUFFICIENT_DATA/);
  });

  it('names a missing file, an unknown format and files with nothing in common', async () => {
    const csv = join(FIXTURES, 'small-baseline.csv');
    let r = await cli('drift', '--baseline', join(dir, 'missing.csv'), '--current', csv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/missing\.csv: no such file/);
    await writeFile(join(dir, 'data.txt'), 'a\n1\n');
    r = await cli('drift', '--baseline', join(dir, 'data.txt'), '--current', csv);
    expect(r.err).toMatch(/expected a \.csv or \.parquet file/);
    await writeFile(join(dir, 'other.csv'), 'y\n1\n2\n');
    r = await cli('drift', '--baseline', join(dir, 'other.csv'), '--current', csv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/share no column/);
    await writeFile(join(dir, 'empty.csv'), 'x\n');
    r = await cli('drift', '--baseline', join(dir, 'empty.csv'), '--current', csv);
    expect(r.err).toMatch(/has no rows/);
    await writeFile(join(dir, 'broken.parquet'), 'not parquet');
    r = await cli('drift', '--baseline', join(dir, 'broken.parquet'), '--current', csv);
    expect(r.err).toMatch(/not a readable Parquet file/);
  });

  it('rejects bad options with a usage error', async () => {
    const csv = join(FIXTURES, 'small-baseline.csv');
    expect((await cli('drift', '--baseline', csv, '--current', csv, '--alpha', '2')).code).toBe(2);
    expect((await cli('drift', '--baseline', csv)).code).toBe(2);
  });
});
