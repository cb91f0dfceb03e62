import { type ColumnType } from './unpacked-schema.js';
import { literal } from './refresh-sql.js';

/**
 * The JSON functions of the two engines the unpack runs in (and Athena's list functions), as
 * SQL text builders, and the checks of a JSON value against a declared type (`unpack-sql.ts`).
 */

/** The largest integer JavaScript holds exactly (2^53 - 1). */
const SAFE_INTEGER = 9007199254740991;

/** The JSON functions both engines' statements use, as SQL text builders. */
export interface JsonSql {
  parse(text: string): string;
  /** The JSON path of an object's member. */
  path(name: string): string;
  member(json: string, key: string): string;
  text(json: string): string;
  str(json: string): string;
  hour(ms: string): string;
  array(items: readonly string[]): string;
  mapGet(map: string, key: string): string;
  doubles: string;
}

/** The list functions of Athena's judge, which works on each request's lists (`unpack-sql-judge.ts`). */
export interface ListSql extends JsonSql {
  list(json: string): string;
  len(list: string): string;
  at(list: string, i: string): string;
  all(list: string, v: string, cond: string): string;
  map(list: string, v: string, expr: string): string;
  sortedKeys(json: string): string;
  keyCount(json: string): string;
  extractMany(json: string, paths: readonly string[]): string;
  select(list: string, positions: string): string;
  /** An empty list of rows. */
  emptyRows: string;
  sort(list: string): string;
  seq(n: string): string;
  full(text: string, pattern: string): string;
  finite(x: string): string;
  position(list: string, item: string): string;
}

export const DUCKDB: JsonSql = {
  // Kept as text once valid: a cast to JSON would write every body out again.
  parse: (t) => `CASE WHEN json_valid(${t}) THEN ${t} END`,
  path: (name) => `$."${name}"`,
  member: (j, k) => `json_extract(${j}, ${literal(`$."${k}"`)})`,
  text: (j) => `CAST(${j} AS VARCHAR)`,
  str: (j) => `json_extract_string(${j}, '$')`,
  hour: (ms) => `(${ms} // 3600000) * 3600000`,
  array: (items) => `[${items.join(', ')}]`,
  mapGet: (m, k) => `${m}[${literal(k)}]`,
  doubles: 'DOUBLE[]',
};

export const ATHENA: ListSql = {
  parse: (t) => `TRY(json_parse(${t}))`,
  path: (name) => `$["${name}"]`,
  member: (j, k) => `json_extract(${j}, ${literal(`$["${k}"]`)})`,
  list: (j) => `TRY_CAST(${j} AS ARRAY(JSON))`,
  text: (j) => `json_format(${j})`,
  str: (j) => `json_extract_scalar(${j}, '$')`,
  len: (l) => `cardinality(${l})`,
  at: (l, i) => `element_at(${l}, ${i})`,
  all: (l, v, c) => `all_match(${l}, ${v} -> COALESCE(${c}, false))`,
  map: (l, v, e) => `transform(${l}, ${v} -> ${e})`,
  sortedKeys: (j) => `array_sort(map_keys(TRY_CAST(${j} AS MAP(VARCHAR, JSON))))`,
  keyCount: (j) => `cardinality(TRY_CAST(${j} AS MAP(VARCHAR, JSON)))`,
  extractMany: (j, paths) => `ARRAY[${paths.map((p) => `json_extract(${j}, ${literal(p)})`).join(', ')}]`,
  select: (l, positions) => `transform(${positions}, k -> element_at(${l}, k))`,
  emptyRows: 'CAST(ARRAY[] AS ARRAY(ARRAY(JSON)))',
  sort: (l) => `array_sort(${l})`,
  hour: (ms) => `(${ms} / 3600000) * 3600000`,
  // sequence(1, 0) counts down in Trino.
  seq: (n) => `IF(${n} > 0, sequence(1, ${n}), CAST(ARRAY[] AS ARRAY(BIGINT)))`,
  full: (t, p) => `regexp_like(${t}, ${literal(`^(${p})$`)})`,
  finite: (x) => `is_finite(${x})`,
  array: (items) => `ARRAY[${items.join(', ')}]`,
  position: (l, item) => `array_position(${l}, ${item})`,
  mapGet: (m, k) => `element_at(${m}, ${literal(k)})`,
  doubles: 'ARRAY(DOUBLE)',
};

/** A JSON value's checks and its stored value, for one declared type. */
export function typed(j: ListSql, type: ColumnType, v: string): { fits: string; value: string } {
  const t = j.text(v);
  const isNull = `(${v} IS NULL OR ${t} = 'null')`;
  const num = `TRY_CAST(${t} AS DOUBLE)`;
  switch (type) {
    case 'DOUBLE':
      // Unquoted, a JSON scalar that is not true, false or null is a number: it fits when it
      // casts to a finite double. -0 is written 0 by the JavaScript path: leave it there.
      // The value is what the JavaScript path writes: a non-finite number as NULL, -0 as 0.
      return { fits: `(${isNull} OR (${j.finite(num)} AND NOT (${num} = 0 AND starts_with(${t}, '-'))))`, value: `CASE WHEN ${j.finite(num)} THEN ${num} + 0.0 END` };
    case 'BIGINT': {
      // An integer token reads back as itself; JavaScript holds it exactly below 2^53.
      const int = `TRY_CAST(${t} AS BIGINT)`;
      return { fits: `(${isNull} OR (CAST(${int} AS VARCHAR) = ${t} AND abs(${int}) <= ${SAFE_INTEGER}))`, value: int };
    }
    case 'BOOLEAN':
      return { fits: `(${isNull} OR ${t} IN ('true', 'false'))`, value: `CASE ${t} WHEN 'true' THEN true WHEN 'false' THEN false END` };
    case 'VARCHAR':
      // An escaped lone surrogate has no UTF-8 form: the JavaScript path decides what it becomes.
      return { fits: `(${isNull} OR (starts_with(${t}, '"') AND (strpos(${t}, '\\u') = 0 OR NOT ${j.full(t, '.*\\\\u[dD][89a-fA-F].*')})))`, value: j.str(v) };
  }
}

/** A prediction as staged (text, cast to the table's type by the commit). */
export function predictionText(j: JsonSql, v: string): string {
  const t = j.text(v);
  // A zero of either sign is 0, as the JavaScript path writes -0.
  return `CASE WHEN ${v} IS NULL OR ${t} = 'null' THEN NULL WHEN starts_with(${t}, '"') THEN ${j.str(v)} WHEN TRY_CAST(${t} AS DOUBLE) = 0 THEN '0' ELSE ${t} END`;
}

