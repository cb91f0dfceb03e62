import type { Granularity } from '../core/config/index.js';
import { type CountBatch, type PredictionBatch, type ValueCounts, cellUnit } from '../core/monitoring/index.js';
import type { ColumnarResult, QueryEngine } from '../core/ports.js';
import { literal } from '../core/refresh-sql.js';
import type { ColumnType, FeatureColumn } from '../core/unpacked-schema.js';

/**
 * What the metrics step reads from `<endpoint>_unpacked`: the counts of each column's values
 * per window cell, model and slice values (one GROUP BY per kind of column, the same text in
 * Athena and DuckDB), and the labelled rows. The rows themselves stay in the engine.
 */

const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const tsLiteral = (ms: number) => `TIMESTAMP ${literal(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''))}`;

/** Rows with a timestamp in [from, to) (epoch ms); the dates prune partitions. */
export function rowsBetween(from: number, to: number): string {
  return `"date" BETWEEN DATE ${literal(dayOf(from))} AND DATE ${literal(dayOf(to - 1))} AND "timestamp" >= ${tsLiteral(from)} AND "timestamp" < ${tsLiteral(to)}`;
}

const isNumeric = (type: ColumnType) => type === 'DOUBLE' || type === 'BIGINT';
/** A column as the metrics read it: numbers as DOUBLE, the rest as text. */
const typed = (expr: string, type: ColumnType) => (isNumeric(type) ? `CAST(${expr} AS DOUBLE)` : `CAST(${expr} AS VARCHAR)`);
const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

// The model id as a number: a string per row costs more to read than everything else.
const modelIndex = (models: readonly string[]) => `CASE model_id ${models.map((m, i) => `WHEN ${literal(m)} THEN ${i}`).join(' ')} ELSE -1 END`;

/** The query of the rows in `where`, one value per column; the model as its index in `models` when given. */
export function selectPredictions(table: string, columns: readonly FeatureColumn[], predictionType: ColumnType, where: string, models?: readonly string[]): string {
  const features = columns.map((c) => `${typed(q(c.column), c.type)} AS ${q(c.column)}`);
  const model = models ? `${modelIndex(models)} AS model_index` : 'model_id';
  return `SELECT to_unixtime("timestamp") * 1000 AS t, ${model}, ${[...features, `${typed('prediction', predictionType)} AS prediction`, 'probabilities', `${typed('label', predictionType)} AS label`].join(', ')} FROM ${table} WHERE ${where}`;
}

/** A columnar read as a batch: its arrays are used as they are, no object per row. */
export function batchFrom(result: ColumnarResult, columns: readonly FeatureColumn[], models: readonly string[]): PredictionBatch {
  const at = (name: string) => result.data[result.columns.indexOf(name)] ?? [];
  return {
    size: at('t').length,
    t: at('t') as ArrayLike<number>,
    model: at('model_index') as ArrayLike<number>,
    models,
    columns: new Map([...columns.map((c) => [c.column, at(c.column)] as const), ['prediction', at('prediction')], ['label', at('label')]]),
    probabilities: at('probabilities'),
  };
}

/** What the counts are read for: the table, its columns, and the windows' granularities and slices. */
export interface CountsQuery {
  readonly table: string;
  readonly columns: readonly FeatureColumn[];
  readonly predictionType: ColumnType;
  readonly granularities: readonly Granularity[];
  readonly slices: readonly string[];
  readonly models: readonly string[];
}

type Column = { readonly column: string; readonly type: ColumnType };

/** The columns whose values are counted: the features, `prediction` and `label`. */
const monitoredColumns = (query: CountsQuery): Column[] => [
  ...query.columns.map((c) => ({ column: c.column, type: c.type })),
  { column: 'prediction', type: query.predictionType },
  { column: 'label', type: query.predictionType },
];

/** The slices that are columns, as read (`model_version` is found from the model id by the function). */
function sliceColumns(query: CountsQuery): { index: number; key: string; expr: string }[] {
  const typeOf = new Map(monitoredColumns(query).map((c) => [c.column, c.type]));
  return query.slices.flatMap((s, index) => {
    const type = typeOf.get(s);
    return type ? [{ index, key: `s${index}`, expr: typed(q(s), type) }] : [];
  });
}

/** What every entry is keyed by, as select items: its cell, its model's index, its slice values. */
function entryKeys(query: CountsQuery): string[] {
  const unit = cellUnit(query.granularities);
  return [`floor(to_unixtime("timestamp") * 1000 / ${unit}) * ${unit} AS cell`, `${modelIndex(query.models)} AS model_index`, ...sliceColumns(query).map((s) => `${s.expr} AS ${s.key}`)];
}

/**
 * The statement that counts the values of `columns` (all numeric, or all text) per cell,
 * model and slice values: one grouped branch per column, in a UNION ALL (Trino and DuckDB
 * both run it; neither has to unpivot).
 */
function countsStatement(query: CountsQuery, columns: readonly Column[], where: string): string {
  const keys = ['cell', 'model_index', ...sliceColumns(query).map((s) => s.key), 'v'];
  // The column as its number in `columns`: a text per entry would cost more to read than the entry.
  return columns
    .map(
      (c, i) =>
        `SELECT ${i} AS c, ${keys.join(', ')}, count(*) AS n FROM (SELECT ${[...entryKeys(query), `${typed(q(c.column), c.type)} AS v`].join(', ')} FROM ${query.table} WHERE ${where}) GROUP BY ${keys.join(', ')}`,
    )
    .join('\nUNION ALL\n');
}

/**
 * Which columns to read counted: those whose counts are fewer than a quarter of the rows
 * (a feature with few values, as most categorical and many numeric ones are). A continuous
 * feature has about one entry per row, and its rows cost less to read than its counts.
 */
async function countedColumns(engine: QueryEngine, query: CountsQuery, all: readonly Column[], where: string, cells: number): Promise<Set<string>> {
  const sizes = await engine.queryColumns(`SELECT count(*) AS n, ${all.map((c, i) => `approx_distinct(${typed(q(c.column), c.type)}) AS d${i}`).join(', ')} FROM ${query.table} WHERE ${where}`);
  const rows = Number(sizes.data[0]?.[0] ?? 0);
  return new Set(all.filter((_, i) => Number(sizes.data[i + 1]?.[0] ?? 0) * cells * 4 < rows).map((c) => c.column));
}

/** Columns read counted: one UNION ALL per kind (numbers, texts), split by column. */
async function readCounted(engine: QueryEngine, query: CountsQuery, kind: readonly Column[], where: string): Promise<Map<string, ValueCounts>> {
  const result = await engine.queryColumns(countsStatement(query, kind, where));
  const at = (name: string) => result.data[result.columns.indexOf(name)] ?? [];
  const [numbers, cells, models, values, counts] = [at('c'), at('cell'), at('model_index'), at('v'), at('n')];
  // Slices that are not columns read as null (nothing to read).
  const read = new Map(sliceColumns(query).map((s) => [s.index, at(s.key)]));
  const slices = query.slices.map((_, k) => read.get(k) ?? { length: 0 });
  const split = kind.map(() => ({ cell: [] as number[], model: [] as number[], slices: slices.map(() => [] as unknown[]), value: [] as unknown[], count: [] as number[] }));
  for (let i = 0; i < numbers.length; i++) {
    const into = split[numbers[i] as number];
    if (!into) continue;
    into.cell.push(Number(cells[i]));
    into.model.push(Number(models[i]));
    slices.forEach((s, k) => into.slices[k]?.push((s as ArrayLike<unknown>)[i] ?? null));
    into.value.push(values[i]);
    into.count.push(Number(counts[i]));
  }
  return new Map(kind.map((c, i) => [c.column, split[i] as ValueCounts]));
}

/** Columns read as rows (each an entry of one), sharing the cell, model and slice arrays. */
async function readRows(engine: QueryEngine, query: CountsQuery, raw: readonly Column[], where: string): Promise<Map<string, ValueCounts>> {
  const result = await engine.queryColumns(`SELECT ${[...entryKeys(query), ...raw.map((c, i) => `${typed(q(c.column), c.type)} AS v${i}`)].join(', ')} FROM ${query.table} WHERE ${where}`);
  const at = (name: string) => result.data[result.columns.indexOf(name)] ?? [];
  const read = new Map(sliceColumns(query).map((s) => [s.index, at(s.key)]));
  const cell = at('cell') as number[];
  const shared = { cell, model: at('model_index') as number[], slices: query.slices.map((_, k) => read.get(k) ?? { length: 0 }), count: new Float64Array(cell.length).fill(1) };
  return new Map(raw.map((c, i) => [c.column, { ...shared, value: at(`v${i}`), rows: true }]));
}

/** The counts of every monitored column of the rows in [from, to), and those rows' labelled ones. */
export async function countsBetween(engine: QueryEngine, query: CountsQuery, from: number, to: number): Promise<CountBatch> {
  const where = rowsBetween(from, to);
  const unit = cellUnit(query.granularities);
  const all = monitoredColumns(query);
  const counted = await countedColumns(engine, query, all, where, Math.ceil((to - from) / unit));
  const columns = new Map<string, ValueCounts>();
  for (const kind of [all.filter((c) => counted.has(c.column) && isNumeric(c.type)), all.filter((c) => counted.has(c.column) && !isNumeric(c.type))]) {
    if (kind.length > 0) for (const [name, vc] of await readCounted(engine, query, kind, where)) columns.set(name, vc);
  }
  const raw = all.filter((c) => !counted.has(c.column));
  if (raw.length > 0) for (const [name, vc] of await readRows(engine, query, raw, where)) columns.set(name, vc);
  const labelled = await engine.queryColumns(`${selectPredictions(query.table, query.columns, query.predictionType, where, query.models)} AND label IS NOT NULL AND prediction IS NOT NULL`);
  return { unit, models: query.models, slices: query.slices, columns, labelled: batchFrom(labelled, query.columns, query.models) };
}
