/**
 * The Athena corpus: queries ML engineers type against the product's own tables, each with the
 * answer Athena (Trino, engine v3) gives, derived from Trino's documented semantics and the
 * fixture of `athena-corpus/fixture.ts`, never from what the local engine returns. Each case
 * runs on the local engine (`LocalQueryEngine`) as `inference-tables query` runs it.
 *
 * Comparison: rows unordered unless the case says `ordered`; integers and doubles as numbers
 * (relative tolerance 1e-9; a DECIMAL or a 64-bit integer the engine renders as text is read as
 * its number); DATE as `YYYY-MM-DD`; TIMESTAMP as Athena prints it (`YYYY-MM-DD HH:MM:SS.sss`),
 * where the local rendering of the same instant (no millis, an ISO `T`, a `Z`) is accepted;
 * JSON as its text; ARRAY as arrays; MAP and ROW as plain objects; a RegExp matches text.
 * `partial` lets rows carry more columns than expected, `leading` lets more rows follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueryEngine } from '../../lambdas/adapters/local/query-engine.js';
import { type Case, type Fixture, type Row, type Value, buildFixture, removeFixture } from './athena-corpus/fixture.js';
import { ALL_CASES as ALL } from './athena-corpus/all.js';

let fixture: Fixture | undefined;
let engine: LocalQueryEngine | undefined;

beforeAll(async () => {
  fixture = await buildFixture();
  engine = await LocalQueryEngine.open(fixture.dir, fixture.config);
}, 120_000);

afterAll(async () => {
  engine?.close();
  await removeFixture(fixture);
});

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?: ?(Z|UTC|[A-Za-z_]+\/[A-Za-z_/]+|[+-]\d{2}(?::?\d{2})?))?$/;

/** A timestamp's text in one form: fraction without trailing zeros, `Z` and `UTC` alike. */
function instant(text: string): string | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const zone = m[4] === 'Z' || m[4] === '+00' || m[4] === '+00:00' ? 'UTC' : (m[4] ?? '');
  return `${m[1]} ${m[2]}${fraction ? `.${fraction}` : ''}${zone ? ` ${zone}` : ''}`;
}

/** True when the engine's value is the expected one (see the file comment). */
function same(expected: Value, actual: unknown): boolean {
  if (expected === null) return actual === null || actual === undefined;
  if (expected instanceof RegExp) return typeof actual === 'string' && expected.test(actual);
  if (typeof expected === 'number') {
    const n = typeof actual === 'bigint' ? Number(actual) : typeof actual === 'string' && actual.trim() !== '' && /^[-+0-9.eE]+$/.test(actual) ? Number(actual) : actual;
    if (typeof n !== 'number' || Number.isNaN(n)) return false;
    return n === expected || Math.abs(n - expected) <= 1e-9 * Math.max(Math.abs(expected), Math.abs(n));
  }
  if (typeof expected === 'boolean') return actual === expected;
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return false;
    if (actual === expected) return true;
    const e = instant(expected);
    // A timestamp without a zone may come back with `Z`: the same instant in UTC.
    return e !== null && (instant(actual) === e || (!e.includes(' ', 11) && instant(actual) === `${e} UTC`));
  }
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((v, i) => same(v, actual[i]));
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
  const object = expected as Readonly<Record<string, Value>>;
  const keys = Object.keys(object);
  const got = actual as Record<string, unknown>;
  return keys.length === Object.keys(got).length && keys.every((k) => Object.hasOwn(got, k) && same(object[k] as Value, got[k]));
}

function sameRow(expected: Row, actual: Record<string, unknown>, partial: boolean): boolean {
  const keys = Object.keys(expected);
  if (!partial && keys.length !== Object.keys(actual).length) return false;
  return keys.every((k) => Object.hasOwn(actual, k) && same(expected[k] as Value, actual[k]));
}

/** Why the rows differ, or null when they match. */
function mismatch(c: Case, expected: readonly Row[], actual: readonly Record<string, unknown>[]): string | null {
  if (c.leading ? actual.length < expected.length : expected.length !== actual.length) return `expected ${expected.length} rows, got ${actual.length}`;
  if (c.ordered || c.leading) {
    const i = expected.findIndex((row, k) => !sameRow(row, actual[k] as Record<string, unknown>, c.partial ?? false));
    return i < 0 ? null : `row ${i} differs`;
  }
  const unused = new Set(actual.keys());
  for (const [i, row] of expected.entries()) {
    const match = [...unused].find((k) => sameRow(row, actual[k] as Record<string, unknown>, c.partial ?? false));
    if (match === undefined) return `expected row ${i} has no match`;
    unused.delete(match);
  }
  return null;
}

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof RegExp ? `/${x.source}/${x.flags}` : typeof x === 'bigint' ? `${x}n` : x));

describe('Athena corpus', () => {
  it('builds its fixture with a refresh that succeeds', () => {
    expect(fixture?.refreshError).toBeUndefined();
  });

  it('names every case once', () => {
    const names = ALL.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(ALL.length).toBeGreaterThanOrEqual(160);
  });

  it.each(ALL.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const db = engine as LocalQueryEngine;
    if ('error' in c.expected) {
      await expect(db.query(c.sql)).rejects.toThrow(c.expected.error);
      return;
    }
    const { rows } = await db.query(c.sql);
    const why = mismatch(c, c.expected, rows);
    expect(why, `${why}\nrule: ${c.rule}\nexpected: ${show(c.expected)}\nactual:   ${show(rows)}`).toBeNull();
  });
});
