/**
 * Trino's functions that take a lambda, written with DuckDB's list functions. The lambda's
 * parameters are renamed (`lp<depth>_<i>`) so they never meet a column's name, and typed from
 * the array or map they range over.
 */
import type { ParseTree } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { TranslationError } from './functions.js';
import { identifierName, unwrap } from './sql-text.js';
import type { Translator } from './translate.js';
import { BOOLEAN, type SqlType, UNKNOWN, arrayOf, mapOf } from './types.js';

/** The functions this module writes. */
export const LAMBDA_FUNCTIONS: ReadonlySet<string> = new Set(['transform', 'filter', 'reduce', 'map_filter', 'transform_values', 'transform_keys', 'any_match', 'all_match', 'none_match', 'zip_with']);

/** A lambda argument's body, its parameters bound to `bindings` (DuckDB text and type each). */
function body(t: Translator, arg: ParseTree | null, bindings: readonly { sql: string; type: SqlType }[], name: string, index: number): { sql: string; type: SqlType } {
  // An argument is an expression node wrapping the lambda in single-child nodes.
  const node = unwrap(arg, T.LambdaContext);
  if (!node) throw new TranslationError(`${name}: argument ${index + 1} must be a lambda (x -> …)`);
  const params = node.identifier().map((i) => identifierName(i));
  if (params.length !== bindings.length) throw new TranslationError(`${name}: the lambda takes ${bindings.length} parameter${bindings.length === 1 ? '' : 's'}, not ${params.length}`);
  t.lambdas.push(new Map(params.map((p, i) => [p, bindings[i] as { sql: string; type: SqlType }])));
  try {
    const sql = t.emit(node.expression());
    return { sql, type: t.typeOf(node.expression()) };
  } finally {
    t.lambdas.pop();
  }
}

/** Writes one call of a lambda-taking function. */
export function lambdaCall(t: Translator, node: T.FunctionCallContext, name: string): string {
  const args = node.expression();
  const depth = t.lambdas.length + 1;
  const p = (i: number): string => `lp${depth}_${i}`;
  const first = args[0] ? t.emit(args[0]) : 'NULL';
  const type = t.typeOf(args[0]);
  const element = type.kind === 'array' ? type.element : UNKNOWN;
  const entry = (key: string): { sql: string; type: SqlType }[] => [
    { sql: `${key}.key`, type: type.kind === 'map' ? type.key : UNKNOWN },
    { sql: `${key}.value`, type: type.kind === 'map' ? type.value : UNKNOWN },
  ];
  const need = (n: number) => {
    if (args.length !== n) throw new TranslationError(`${name} takes ${n} arguments, not ${args.length}`);
  };
  switch (name) {
    case 'transform': {
      need(2);
      const b = body(t, args[1] ?? null, [{ sql: p(0), type: element }], name, 1);
      return t.typed(node, `list_transform(${first}, ${p(0)} -> ${b.sql})`, arrayOf(b.type));
    }
    case 'filter': {
      need(2);
      const b = body(t, args[1] ?? null, [{ sql: p(0), type: element }], name, 1);
      return t.typed(node, `list_filter(${first}, ${p(0)} -> ${b.sql})`, type);
    }
    case 'any_match':
    case 'all_match':
    case 'none_match': {
      need(2);
      const b = body(t, args[1] ?? null, [{ sql: p(0), type: element }], name, 1);
      const each = `list_transform(${first}, ${p(0)} -> ${b.sql})`;
      // Trino: decided by a true (any) or a false (all) when there is one, else NULL when a result is NULL.
      const nulls = `list_contains(list_transform(${each}, athena_r -> athena_r IS NULL), true)`;
      const any = `CASE WHEN ${first} IS NULL THEN NULL WHEN list_contains(${each}, true) THEN true WHEN ${nulls} THEN NULL ELSE false END`;
      if (name === 'all_match') return t.typed(node, `CASE WHEN ${first} IS NULL THEN NULL WHEN list_contains(${each}, false) THEN false WHEN ${nulls} THEN NULL ELSE true END`, BOOLEAN);
      return t.typed(node, name === 'none_match' ? `(NOT (${any}))` : any, BOOLEAN);
    }
    case 'reduce': {
      need(4);
      const init = t.emit(args[1] as ParseTree);
      const state = t.typeOf(args[1]);
      const step = body(t, args[2] ?? null, [{ sql: p(0), type: state }, { sql: p(1), type: element }], name, 2);
      const reduced = `list_reduce(${first}, (${p(0)}, ${p(1)}) -> ${step.sql}, ${init})`;
      const finish = body(t, args[3] ?? null, [{ sql: p(2), type: state }], name, 3);
      if (finish.sql === p(2)) return t.typed(node, reduced, state);
      return t.typed(node, `list_transform([${reduced}], ${p(2)} -> ${finish.sql})[1]`, finish.type);
    }
    case 'map_filter': {
      need(2);
      const b = body(t, args[1] ?? null, entry(p(0)), name, 1);
      return t.typed(node, `map_from_entries(list_filter(map_entries(${first}), ${p(0)} -> ${b.sql}))`, type);
    }
    case 'transform_values':
    case 'transform_keys': {
      need(2);
      const b = body(t, args[1] ?? null, entry(p(0)), name, 1);
      const pair = name === 'transform_values' ? `{'key': ${p(0)}.key, 'value': ${b.sql}}` : `{'key': ${b.sql}, 'value': ${p(0)}.value}`;
      const out = type.kind === 'map' ? (name === 'transform_values' ? mapOf(type.key, b.type) : mapOf(b.type, type.value)) : UNKNOWN;
      return t.typed(node, `map_from_entries(list_transform(map_entries(${first}), ${p(0)} -> ${pair}))`, out);
    }
    default: {
      need(3);
      const second = t.emit(args[1] as ParseTree);
      const other = t.typeOf(args[1]);
      const b = body(t, args[2] ?? null, [
        { sql: `${first}[${p(0)}]`, type: element },
        { sql: `${second}[${p(0)}]`, type: other.kind === 'array' ? other.element : UNKNOWN },
      ], name, 2);
      return t.typed(node, `list_transform(range(1, greatest(len(${first}), len(${second})) + 1), ${p(0)} -> ${b.sql})`, arrayOf(b.type));
    }
  }
}
