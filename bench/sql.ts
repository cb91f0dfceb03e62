/**
 * `npm run bench`, SQL part: what translating Athena SQL adds to a local query. Over the
 * queries of the Athena corpus (`test/e2e/athena-corpus/`) on its fixture, each measured in
 * `BENCH_ROUNDS` (5) rounds, medians printed:
 *   translate  parse with Trino's grammar and write DuckDB's SQL (the cost under test);
 *   peer       DuckDB's own parser on the translated text (`json_serialize_sql`), a C++ parser;
 *   baseline   DuckDB running the translated text, reading every row (the query itself);
 *   first      the first translation in the process, which pays the grammar's warm-up (the
 *              server and the console pay it at start; the one-shot CLI pays it once).
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalQueryEngine } from '../lambdas/adapters/local/query-engine.js';
import { buildFixture, removeFixture } from '../test/e2e/athena-corpus/fixture.js';
import { ALL_CASES } from '../test/e2e/athena-corpus/all.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

/** The first parse in a fresh process, which loads the grammar (the refresh of the fixture has already paid it here). */
function coldParse(sql: string): number {
  const script = `import { parseStatement } from './lambdas/core/athena-sql/parse.ts'; const t = performance.now(); parseStatement(${JSON.stringify(sql)}); console.log(performance.now() - t);`;
  return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' }).trim());
}

const fixture = await buildFixture();
const engine = await LocalQueryEngine.open(fixture.dir, fixture.config);
try {
  const queries = ALL_CASES.filter((c) => Array.isArray(c.expected) && !/current_|now\(|rand/i.test(c.sql)).map((c) => c.sql);
  const first = median(Array.from({ length: ROUNDS }, () => coldParse(queries[0] as string)));
  const translate: number[] = [];
  const peer: number[] = [];
  const baseline: number[] = [];
  const raw = (engine as unknown as { db: import('@duckdb/node-api').DuckDBConnection }).db;
  for (const sql of queries) {
    const tr: number[] = [];
    const pr: number[] = [];
    const br: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let s = performance.now();
      const t = engine.translation(sql);
      tr.push(performance.now() - s);
      if (t.kind !== 'query') continue;
      s = performance.now();
      await raw.runAndReadAll(`SELECT json_serialize_sql(${`'${t.sql.replaceAll("'", "''")}'`})`);
      pr.push(performance.now() - s);
      s = performance.now();
      await engine.query(sql).catch(() => undefined);
      br.push(performance.now() - s - (tr.at(-1) as number));
    }
    translate.push(median(tr));
    if (pr.length > 0) peer.push(median(pr));
    if (br.length > 0) baseline.push(median(br));
  }
  const row = (name: string, xs: readonly number[]) =>
    `${name.padEnd(10)} ${median(xs).toFixed(2).padStart(8)} ${quantile(xs, 0.95).toFixed(2).padStart(8)} ${Math.max(...xs).toFixed(2).padStart(8)}`;
  console.log(`Athena SQL translation, ${queries.length} corpus queries, ${ROUNDS} rounds each; ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`${'ms'.padEnd(10)} ${'median'.padStart(8)} ${'p95'.padStart(8)} ${'max'.padStart(8)}`);
  console.log(row('translate', translate));
  console.log(row('peer', peer));
  console.log(row('baseline', baseline));
  console.log(`${'first'.padEnd(10)} ${first.toFixed(2).padStart(8)}   (the first parse in a fresh process: the grammar's warm-up)`);
} finally {
  engine.close();
  await removeFixture(fixture);
}
