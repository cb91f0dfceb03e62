import { z } from 'zod';
import { TIMESTAMP_TEXT } from '../capture-record.js';
import { GRANULARITIES } from '../config/index.js';

/**
 * The building blocks of the metrics tables' column registries (`profile-columns.ts`,
 * `drift.ts`, `alerts.ts`): a column is declared once, as a name, a zod schema of its value
 * and a description. The row types (`z.infer`), the SQL types of both engines
 * (`metrics-sql.ts`), the README's column tables and the tests' checks of computed rows are
 * derived from those declarations, as the payload table's are from the capture record.
 */

/** A column type, written out for each engine by `metrics-sql.ts`. */
export type SqlType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'TIMESTAMP' | { readonly array: SqlType } | { readonly struct: readonly (readonly [string, SqlType])[] };

/** One column of a metrics table. */
export interface MetricsColumn<N extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: N;
  /** The value a row holds; its SQL type is derived from it ({@link sqlTypeOf}). */
  readonly schema: S;
  /** What the column holds, for the README. */
  readonly description: string;
}

/**
 * Declares a column.
 *
 * @example
 * column('count', z.int(), 'Rows of the window.')
 */
export function column<const N extends string, S extends z.ZodType>(name: N, schema: S, description: string): MetricsColumn<N, S> {
  return { name, schema, description };
}

/** The zod shape of a list of columns, by name. */
export type ShapeOf<C extends readonly MetricsColumn[]> = { [K in C[number] as K['name']]: K['schema'] };

/** The zod shape of a list of columns, in their order (a row schema is `z.strictObject(shapeOf(columns))`). */
export function shapeOf<const C extends readonly MetricsColumn[]>(columns: C): ShapeOf<C> {
  return Object.fromEntries(columns.map((c) => [c.name, c.schema])) as ShapeOf<C>;
}

// SQL types a schema cannot tell by itself: a timestamp is text in a row.
const sqlTypes = z.registry<{ sql: SqlType }>();

/** A timestamp, as rows hold it: `yyyy-MM-dd HH:mm:ss.SSS` (UTC), a TIMESTAMP in SQL. */
export const timestampText = z.string().regex(TIMESTAMP_TEXT).register(sqlTypes, { sql: 'TIMESTAMP' });

/**
 * The SQL type of a column's values: integers are BIGINT, other numbers DOUBLE, text and
 * enumerations VARCHAR, arrays and objects ARRAY and STRUCT of their parts (in shape order);
 * null is allowed in every SQL type.
 */
export function sqlTypeOf(schema: z.ZodType): SqlType {
  const registered = sqlTypes.get(schema);
  if (registered) return registered.sql;
  if (schema instanceof z.ZodNullable) return sqlTypeOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodNumber) return schema.format === 'safeint' ? 'BIGINT' : 'DOUBLE';
  if (schema instanceof z.ZodString || schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral) return 'VARCHAR';
  if (schema instanceof z.ZodArray) return { array: sqlTypeOf(schema.element as z.ZodType) };
  if (schema instanceof z.ZodObject) return { struct: Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => [name, sqlTypeOf(field)] as const) };
  throw new TypeError(`no SQL type for a zod ${schema.def.type}`);
}

/** The model id of rows that aggregate every model. */
export const ALL_MODELS = '*';
/** The column name of table-level rows. */
export const TABLE_COLUMN = ':table';
/** Values of a slice column that get a slice of their own, the most frequent first. */
export const SLICE_VALUES = 20;

/** The key columns of profile and drift rows: window, model, slice and column. */
export const METRICS_KEY_COLUMNS = [
  column('window_start', timestampText, 'Start of the window (UTC).'),
  column('window_end', timestampText, 'End of the window (UTC), excluded.'),
  column('granularity', z.enum(GRANULARITIES), `Length of the window: ${GRANULARITIES.map((g) => `\`${g}\``).join(', ')}.`),
  column('model_id', z.string(), `The model (\`<model name>/<version>\`), or \`${ALL_MODELS}\` for all models.`),
  column('slice_key', z.string().nullable(), `The slice column (\`monitoring.slices\`, e.g. \`model_version\`); null for the whole window.`),
  column('slice_value', z.string().nullable(), `The slice's value (one slice per value, the ${SLICE_VALUES} most frequent); null for the whole window.`),
  column('column_name', z.string(), `The column: a feature, \`prediction\` or \`label\` (drift compares the features and \`prediction\`); \`${TABLE_COLUMN}\` for the figures of the whole table.`),
  column('data_type', z.string(), 'Its type in the unpacked table (`DOUBLE`, `BIGINT`, `VARCHAR`, `BOOLEAN`); `table` for the whole table.'),
] as const;

/** A key column, to declare it in another table. */
export function keyColumn<N extends MetricsKeyColumn['name']>(name: N): Extract<MetricsKeyColumn, { name: N }> {
  return METRICS_KEY_COLUMNS.find((c) => c.name === name) as Extract<MetricsKeyColumn, { name: N }>;
}
type MetricsKeyColumn = (typeof METRICS_KEY_COLUMNS)[number];

/** The keys of a metrics row: its window, model, slice and column. */
export type MetricsKey = z.infer<z.ZodObject<ShapeOf<typeof METRICS_KEY_COLUMNS>>>;

/** Columns every metrics table adds when it stores a run's rows (not in the rows computed). */
export const RUN_COLUMNS = [
  column('computed_at', timestampText, 'When the run that wrote the row started (UTC).'),
  column('run_id', z.string(), 'The id of that run.'),
] as const;

const DOC_TYPES = { VARCHAR: 'STRING', DOUBLE: 'DOUBLE', BIGINT: 'BIGINT', TIMESTAMP: 'TIMESTAMP' } as const;

/** A SQL type as the README writes it (`STRING`, `ARRAY<DOUBLE>`, `STRUCT<macro: DOUBLE, …>`). */
export function docType(t: SqlType): string {
  if (typeof t === 'string') return DOC_TYPES[t];
  if ('array' in t) return `ARRAY<${docType(t.array)}>`;
  return `STRUCT<${t.struct.map(([n, ft]) => `${n}: ${docType(ft)}`).join(', ')}>`;
}

/** Columns as the Markdown table of the README (a test keeps them equal). */
export function columnsMarkdown(columns: readonly MetricsColumn[]): string {
  return ['| column | type | meaning |', '| --- | --- | --- |', ...columns.map((c) => `| ${c.name} | ${docType(sqlTypeOf(c.schema))} | ${c.description} |`)].join('\n');
}
