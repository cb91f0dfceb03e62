/**
 * Trino's types as the translator sees them: enough to choose the DuckDB form of what behaves
 * by type (UNNEST of a map or of rows, a subscript out of range, a DATE compared with text,
 * integer division), and to name columns' types as Athena does.
 */

/** A Trino type; `unknown` when the translator cannot tell. */
export type SqlType =
  | { readonly kind: 'scalar'; readonly name: string }
  | { readonly kind: 'array'; readonly element: SqlType }
  | { readonly kind: 'map'; readonly key: SqlType; readonly value: SqlType }
  | { readonly kind: 'row'; readonly fields: readonly (readonly [string | null, SqlType])[] };

export const scalar = (name: string): SqlType => ({ kind: 'scalar', name });
export const UNKNOWN = scalar('unknown');
export const VARCHAR = scalar('varchar');
export const BIGINT = scalar('bigint');
export const INTEGER = scalar('integer');
export const DOUBLE = scalar('double');
export const BOOLEAN = scalar('boolean');
export const DATE = scalar('date');
export const TIMESTAMP = scalar('timestamp');
export const TIMESTAMP_TZ = scalar('timestamp with time zone');
export const JSON_TYPE = scalar('json');
export const arrayOf = (element: SqlType): SqlType => ({ kind: 'array', element });
/** The zone of values that each keep their own (from_iso8601_timestamp of a column): their fields cannot be read here. */
export const OFFSET_UNKNOWN = 'each value\'s own offset';
/** A timestamp with time zone whose values are read in `zone` (the value itself is an instant). */
export const zoned = (zone: string): SqlType => (/^(UTC|Z|GMT|Etc\/UTC|[+-]00:?00)$/i.test(zone) ? TIMESTAMP_TZ : scalar(`timestamp with time zone(${zone})`));
/** The zone a timestamp with time zone is read in (UTC unless one was named); null for other types. */
export function zoneOf(t: SqlType): string | null {
  if (t.kind !== 'scalar' || !t.name.startsWith('timestamp with time zone')) return null;
  return /\((.+)\)$/.exec(t.name)?.[1] ?? 'UTC';
}
export const mapOf = (key: SqlType, value: SqlType): SqlType => ({ kind: 'map', key, value });

const INTEGERS = new Set(['tinyint', 'smallint', 'integer', 'bigint']);

/** A scalar's name without its parameters (`decimal(2,1)` is a `decimal`). */
const baseName = (name: string): string => name.replace(/\(.*$/, '');
export const isNamed = (t: SqlType, ...names: string[]): boolean => t.kind === 'scalar' && names.includes(baseName(t.name));
export const isInteger = (t: SqlType): boolean => t.kind === 'scalar' && INTEGERS.has(t.name);

/** `decimal(p,s)`. */
export const decimal = (precision: number, scale: number): SqlType => scalar(`decimal(${Math.min(38, Math.max(precision, scale, 1))},${scale})`);
const INTEGER_DIGITS: Readonly<Record<string, number>> = { tinyint: 3, smallint: 5, integer: 10, bigint: 19 };

/** The precision and scale of a decimal, or of an integer as Trino widens it to one; null for other types. */
export function decimalOf(t: SqlType): { p: number; s: number } | null {
  if (t.kind !== 'scalar') return null;
  const digits = INTEGER_DIGITS[t.name];
  if (digits !== undefined) return { p: digits, s: 0 };
  const m = /^decimal\((\d+),\s*(\d+)\)$/.exec(t.name);
  return m ? { p: Number(m[1]), s: Number(m[2]) } : null;
}

/** The type of a decimal literal (`1.50` is `decimal(3,2)`). */
export function decimalLiteral(text: string): SqlType {
  const [whole = '', fraction = ''] = text.replace(/^[+-]/, '').split('.');
  return decimal(whole.replace(/^0+/, '').length + fraction.length, fraction.length);
}

/** The common type of CASE branches, COALESCE arguments and the like (NULLs aside). */
export function unify(types: readonly SqlType[]): SqlType {
  const known = types.filter((t) => !isUnknown(t));
  if (known.length === 0 || known.length !== types.length - types.filter(isUnknown).length) return UNKNOWN;
  if (known.every(isInteger)) return known.reduce((a, b) => arithmeticType(a, b));
  if (known.some((t) => isNamed(t, 'double', 'real'))) return known.every((t) => isNamed(t, 'double', 'real') || decimalOf(t)) ? DOUBLE : UNKNOWN;
  if (known.some((t) => isNamed(t, 'decimal')) && known.every((t) => decimalOf(t))) {
    const ds = known.map((t) => decimalOf(t) as { p: number; s: number });
    const s = Math.max(...ds.map((d) => d.s));
    return decimal(Math.max(...ds.map((d) => d.p - d.s)) + s, s);
  }
  const first = known[0] as SqlType;
  return known.every((t) => isNamed(t, baseName(first.kind === 'scalar' ? first.name : ''))) ? (isText(first) ? VARCHAR : first) : UNKNOWN;
}
export const isUnknown = (t: SqlType): boolean => isNamed(t, 'unknown');
export const isText = (t: SqlType): boolean => isNamed(t, 'varchar', 'char');
export const isTemporal = (t: SqlType): boolean => isNamed(t, 'date', 'timestamp', 'timestamp with time zone', 'time');

/** The DuckDB spelling of a Trino type. */
export function duckType(t: SqlType): string {
  switch (t.kind) {
    case 'array':
      return `${duckType(t.element)}[]`;
    case 'map':
      return `MAP(${duckType(t.key)}, ${duckType(t.value)})`;
    case 'row':
      return `STRUCT(${t.fields.map(([n, f], i) => `"${n ?? `field${i}`}" ${duckType(f)}`).join(', ')})`;
    default: {
      const d = decimalOf(t);
      if (d && isNamed(t, 'decimal')) return `DECIMAL(${d.p}, ${d.s})`;
      return DUCK_SCALARS[baseName(t.name)] ?? t.name.toUpperCase();
    }
  }
}

const DUCK_SCALARS: Readonly<Record<string, string>> = {
  varchar: 'VARCHAR',
  char: 'VARCHAR',
  tinyint: 'TINYINT',
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMPTZ',
  time: 'TIME',
  json: 'JSON',
  varbinary: 'BLOB',
  uuid: 'UUID',
};

/** The Trino spelling (`array(varchar)`), as `typeof` and DESCRIBE show it. */
export function trinoTypeName(t: SqlType): string {
  switch (t.kind) {
    case 'array':
      return `array(${trinoTypeName(t.element)})`;
    case 'map':
      return `map(${trinoTypeName(t.key)}, ${trinoTypeName(t.value)})`;
    case 'row':
      return `row(${t.fields.map(([n, f]) => (n ? `${n} ${trinoTypeName(f)}` : trinoTypeName(f))).join(', ')})`;
    default:
      return t.name === 'timestamp' ? 'timestamp(3)' : t.name.startsWith('timestamp with time zone') ? 'timestamp(3) with time zone' : t.name === 'decimal' ? 'decimal(38,18)' : t.name;
  }
}

/** The Hive spelling Athena's DDL shows (`map<string,string>`). */
export function hiveTypeName(t: SqlType): string {
  switch (t.kind) {
    case 'array':
      return `array<${hiveTypeName(t.element)}>`;
    case 'map':
      return `map<${hiveTypeName(t.key)},${hiveTypeName(t.value)}>`;
    case 'row':
      return `struct<${t.fields.map(([n, f], i) => `${n ?? `field${i}`}:${hiveTypeName(f)}`).join(',')}>`;
    default:
      return ({ varchar: 'string', integer: 'int', 'timestamp with time zone': 'timestamp', timestamp: 'timestamp' } as Record<string, string>)[baseName(t.name)] ?? t.name;
  }
}

const FROM_DUCK: Readonly<Record<string, string>> = {
  VARCHAR: 'varchar',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  SMALLINT: 'smallint',
  TINYINT: 'tinyint',
  HUGEINT: 'bigint',
  UBIGINT: 'bigint',
  UINTEGER: 'bigint',
  DOUBLE: 'double',
  FLOAT: 'real',
  BOOLEAN: 'boolean',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP_MS': 'timestamp',
  'TIMESTAMP_NS': 'timestamp',
  'TIMESTAMP_S': 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp with time zone',
  JSON: 'json',
  BLOB: 'varbinary',
  UUID: 'uuid',
};

/** Reads a DuckDB type name (`MAP(VARCHAR, VARCHAR)`, `STRUCT("a" DOUBLE)[]`) as a Trino type. */
export function fromDuckType(text: string): SqlType {
  const s = text.trim();
  if (s.endsWith('[]')) return arrayOf(fromDuckType(s.slice(0, -2)));
  const open = s.indexOf('(');
  if (open > 0 && s.endsWith(')')) {
    const head = s.slice(0, open).toUpperCase();
    const parts = splitTopLevel(s.slice(open + 1, -1));
    if (head === 'MAP' && parts.length === 2) return mapOf(fromDuckType(parts[0] as string), fromDuckType(parts[1] as string));
    if (head === 'STRUCT') {
      return {
        kind: 'row',
        fields: parts.map((p) => {
          const m = /^\s*("(?:[^"]|"")*"|\S+)\s+(.*)$/s.exec(p);
          const name = (m?.[1] ?? '').replace(/^"|"$/g, '').replaceAll('""', '"');
          return [name, fromDuckType(m?.[2] ?? 'unknown')] as const;
        }),
      };
    }
    if (head === 'DECIMAL' && parts.length === 2) return decimal(Number(parts[0]), Number(parts[1]));
    if (head === 'VARCHAR') return VARCHAR;
  }
  return scalar(FROM_DUCK[s.toUpperCase()] ?? 'unknown');
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim());
}

/** The element type UNNEST yields for a value of type `t` (a map yields its key and value). */
export function unnestColumns(t: SqlType): SqlType[] {
  if (t.kind === 'map') return [t.key, t.value];
  if (t.kind === 'array') return t.element.kind === 'row' ? t.element.fields.map(([, f]) => f) : [t.element];
  return [UNKNOWN];
}

/** The type of `a op b` for numbers, by Trino's rules (decimals widen; a double wins). */
export function arithmeticType(a: SqlType, b: SqlType, op = '+'): SqlType {
  if (isInteger(a) && isInteger(b)) return isNamed(a, 'bigint') || isNamed(b, 'bigint') ? BIGINT : INTEGER;
  if (isNamed(a, 'double', 'real') || isNamed(b, 'double', 'real')) return DOUBLE;
  const [x, y] = [decimalOf(a), decimalOf(b)];
  if (!x || !y) return UNKNOWN;
  if (op === '*') return decimal(x.p + y.p, x.s + y.s);
  const s = Math.max(x.s, y.s);
  if (op === '/') return decimal(x.p - x.s + y.s + s, s);
  if (op === '%') return decimal(Math.min(x.p - x.s, y.p - y.s) + s, s);
  return decimal(1 + s + Math.max(x.p - x.s, y.p - y.s), s);
}
