/**
 * Types as SQL writes them (`ARRAY(ROW(a DOUBLE))`, `DECIMAL(10,2)`), read into the
 * translator's types, and the texts DuckDB needs for them (a cast's type, a timestamp's
 * format at its precision, the structure `json_transform` reads JSON into).
 */
import type { ParseTree } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { identifierName, quoteString } from './sql-text.js';
import { BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, JSON_TYPE, type SqlType, TIMESTAMP, TIMESTAMP_TZ, VARCHAR, arrayOf, decimal, duckType, mapOf, scalar } from './types.js';

/** strftime's pattern for a timestamp's text at its precision (`timestamp` alone is Athena's timestamp(3)). */
export function timestampFormat(t: SqlType): string {
  const p = Number(/\((\d+)\)/.exec(t.kind === 'scalar' ? t.name : '')?.[1] ?? 3);
  return quoteString(p === 0 ? '%Y-%m-%d %H:%M:%S' : p <= 3 ? '%Y-%m-%d %H:%M:%S.%g' : '%Y-%m-%d %H:%M:%S.%f');
}

/** Whether a type holds a ROW (JSON read into one takes fields by name, a missing one NULL). */
export const hasRow = (t: SqlType): boolean => t.kind === 'row' || (t.kind === 'array' && hasRow(t.element)) || (t.kind === 'map' && hasRow(t.value));

/** The structure `json_transform` reads a JSON value into, for a Trino type. */
export function jsonStructure(t: SqlType): string {
  const of = (x: SqlType): unknown => (x.kind === 'row' ? Object.fromEntries(x.fields.map(([n, f], i) => [n ?? `field${i}`, of(f)])) : x.kind === 'array' ? [of(x.element)] : duckType(x));
  return JSON.stringify(of(t));
}

/** A Trino type written in SQL. */
export function typeOfSyntax(ctx: T.TypeContext): SqlType {
  if (ctx instanceof T.RowTypeContext) return { kind: 'row', fields: ctx.rowField().map((f) => [f.identifier() ? identifierName(f.identifier() as ParseTree) : null, typeOfSyntax(f.type())] as const) };
  if (ctx instanceof T.ArrayTypeContext) return arrayOf(typeOfSyntax(ctx.type()));
  if (ctx instanceof T.LegacyArrayTypeContext) return arrayOf(typeOfSyntax(ctx.type()));
  if (ctx instanceof T.LegacyMapTypeContext) return mapOf(typeOfSyntax(ctx.type_(0) as T.TypeContext), typeOfSyntax(ctx.type_(1) as T.TypeContext));
  if (ctx instanceof T.DateTimeTypeContext) return ctx.KW_TIME() && !ctx.KW_TIMESTAMP() ? scalar('time') : ctx.KW_WITH() ? TIMESTAMP_TZ : TIMESTAMP;
  if (ctx instanceof T.DoublePrecisionTypeContext) return DOUBLE;
  if (ctx instanceof T.GenericTypeContext) {
    const name = identifierName(ctx.identifier());
    const params = ctx.typeParameter().map((p) => p.type());
    if (name === 'array' && params[0]) return arrayOf(typeOfSyntax(params[0]));
    if (name === 'map' && params[0] && params[1]) return mapOf(typeOfSyntax(params[0]), typeOfSyntax(params[1]));
    const known: Record<string, SqlType> = { varchar: VARCHAR, char: VARCHAR, string: VARCHAR, int: INTEGER, integer: INTEGER, bigint: BIGINT, double: DOUBLE, boolean: BOOLEAN, date: DATE, json: JSON_TYPE, timestamp: TIMESTAMP };
    if (name === 'decimal') {
      const [p, sc] = ctx.typeParameter().map((t) => Number(t.INTEGER_VALUE()?.getText() ?? NaN));
      return Number.isFinite(p) ? decimal(p as number, Number.isFinite(sc) ? (sc as number) : 0) : decimal(38, 0);
    }
    return known[name] ?? scalar(name);
  }
  return scalar(ctx.getText().toLowerCase());
}

/** The DuckDB spelling of a type written in SQL (DECIMAL keeps its precision). */
export function duckTypeOfSyntax(ctx: T.TypeContext): string {
  if (ctx instanceof T.GenericTypeContext && identifierName(ctx.identifier()) === 'decimal') return ctx.getText().toUpperCase();
  return duckType(typeOfSyntax(ctx));
}

