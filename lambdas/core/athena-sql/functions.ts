/**
 * The Athena (Trino) functions the local engine runs, each with its DuckDB form. A function not
 * in this registry is refused by name: `ATHENA_ONLY` says which of those Athena has, so the
 * error can tell the user the query will run there. The README's list is derived from here.
 */
import { fromWallClock, wallClock } from './sql-text.js';
import {
  BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, JSON_TYPE, type SqlType, TIMESTAMP, TIMESTAMP_TZ, UNKNOWN, VARCHAR, arrayOf, decimal, decimalOf, isInteger, isNamed, isUnknown, mapOf,
  OFFSET_UNKNOWN, scalar, trinoTypeName, unify, zoneOf, zoned,
} from './types.js';

/** A call as the registry sees it: its arguments in DuckDB text, their types, and string literals' values. */
export interface Call {
  readonly name: string;
  readonly args: readonly string[];
  readonly types: readonly SqlType[];
  /** The value of each argument that is a string literal, else null. */
  readonly literals: readonly (string | null)[];
  /** The ORDER BY inside an aggregate's parentheses, translated. */
  readonly tail: string;
  readonly distinct: boolean;
  /** What follows the call: IGNORE NULLS, FILTER and OVER, translated. */
  readonly after: string;
  /** The zone each zoned argument was read in before the call turned it into its wall clock (null when not zoned). */
  readonly zones: readonly (string | null)[];
}

/** One Athena function: how DuckDB writes it and what it returns. */
export interface FunctionRule {
  /** A DuckDB function of the same arguments, or the whole call's text. */
  readonly to: string | ((call: Call) => string);
  readonly returns?: SqlType | ((types: readonly SqlType[], call: Call) => SqlType);
  /** An aggregate (takes DISTINCT, ORDER BY, FILTER, OVER). */
  readonly aggregate?: boolean;
  /** Allowed argument counts. */
  readonly arity?: readonly number[];
}

const same = (returns?: FunctionRule['returns']): FunctionRule => ({ to: '', returns });
const agg = (to: string, returns?: FunctionRule['returns']): FunctionRule => ({ to, returns, aggregate: true });
const first = (types: readonly SqlType[]): SqlType => types[0] ?? UNKNOWN;
const elementOf = (types: readonly SqlType[]): SqlType => {
  const t = types[0];
  return t?.kind === 'array' ? t.element : UNKNOWN;
};
const a = (c: Call, i: number): string => c.args[i] ?? 'NULL';
const unitOf = (c: Call): string => (c.literals[0] ?? '').toLowerCase();

const INTERVAL_OF: Readonly<Record<string, (n: string) => string>> = {
  millisecond: (n) => `to_milliseconds(CAST(${n} AS BIGINT))`,
  second: (n) => `to_seconds(CAST(${n} AS BIGINT))`,
  minute: (n) => `to_minutes(CAST(${n} AS BIGINT))`,
  hour: (n) => `to_hours(CAST(${n} AS BIGINT))`,
  day: (n) => `to_days(CAST(${n} AS INTEGER))`,
  week: (n) => `to_weeks(CAST(${n} AS INTEGER))`,
  month: (n) => `to_months(CAST(${n} AS INTEGER))`,
  quarter: (n) => `to_months(CAST(3 * (${n}) AS INTEGER))`,
  year: (n) => `to_years(CAST(${n} AS INTEGER))`,
};
const DAY_UNITS = new Set(['day', 'week', 'month', 'quarter', 'year']);

/** `date_add(unit, n, t)`: a DATE stays a DATE (Trino), which DuckDB's `DATE + INTERVAL` is not. */
function dateAdd(c: Call): string {
  const unit = unitOf(c);
  const interval = INTERVAL_OF[unit];
  if (!interval) throw new TranslationError(`date_add: unit '${c.literals[0] ?? c.args[0]}' must be a literal, one of ${Object.keys(INTERVAL_OF).join(', ')}`);
  const sum = `(${a(c, 2)} + ${interval(a(c, 1))})`;
  const zone = c.zones[2];
  // A zoned value moves on its wall clock (a day is a day across a DST change), then is an instant again.
  if (zone && zone !== 'UTC') return fromWallClock(sum, zone);
  if (isNamed(c.types[2] ?? UNKNOWN, 'date')) {
    if (!DAY_UNITS.has(unit)) throw new TranslationError(`date_add: '${unit}' is not a valid DATE field (Athena refuses it too)`);
    return `CAST(${sum} AS DATE)`;
  }
  return sum;
}

/** A zoned argument's wall clock in its zone (its own zone for timezone_hour). */
function zonedWall(c: Call): string {
  const zone = zoneOf(c.types[0] ?? UNKNOWN);
  if (zone === null) throw new TranslationError(`${c.name} takes a timestamp with time zone`);
  return wallClock(a(c, 0), zone);
}

/** Units Trino's date_trunc, date_diff and extract accept. */
const UNITS = new Set(['millisecond', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year']);
function unitCall(fn: string, c: Call): string {
  const unit = unitOf(c);
  if (!UNITS.has(unit)) throw new TranslationError(`${c.name}: unit '${c.literals[0] ?? c.args[0]}' must be a literal, one of ${[...UNITS].join(', ')}`);
  return `${fn}('${unit}', ${c.args.slice(1).join(', ')})`;
}

/** Joda-Time pattern letters (`format_datetime`, `parse_datetime`) as strftime's. */
export function jodaToStrftime(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i] as string;
    if (ch === "'") {
      const end = pattern.indexOf("'", i + 1);
      const text = end < 0 ? pattern.slice(i + 1) : pattern.slice(i + 1, end);
      out += text === '' ? "'" : text.replaceAll('%', '%%');
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    let j = i;
    while (pattern[j] === ch) j++;
    const run = j - i;
    const code = JODA[`${ch}${run >= 4 ? 4 : run}`] ?? JODA[ch];
    if (code === undefined && /[A-Za-z]/.test(ch)) throw new TranslationError(`format_datetime: pattern letter '${ch}' is not supported locally`);
    out += code ?? pattern.slice(i, j).replaceAll('%', '%%');
    i = j;
  }
  return out;
}
const JODA: Readonly<Record<string, string>> = {
  y4: '%Y', y3: '%Y', y2: '%y', y1: '%Y', Y: '%Y',
  M4: '%B', M3: '%b', M2: '%m', M1: '%-m',
  d2: '%d', d1: '%-d', D: '%j',
  H2: '%H', H1: '%-H', h2: '%I', h1: '%-I',
  m2: '%M', m1: '%-M', s2: '%S', s1: '%-S',
  S3: '%g', S2: '%g', S1: '%g', S6: '%f',
  a: '%p', E4: '%A', E3: '%a', E2: '%a', E1: '%a',
  // The zone of a UTC value (a zoned one is refused by format_datetime).
  Z1: '+0000', Z2: '+00:00', Z3: 'UTC', z1: 'UTC', z2: 'UTC', z3: 'UTC', z4: 'Coordinated Universal Time',
};

/** MySQL letters (`date_format`, `date_parse`) as strftime's. */
const MYSQL: Readonly<Record<string, string>> = {
  '%x': '%G', '%i': '%M', '%s': '%S', '%T': '%H:%M:%S', '%r': '%I:%M:%S %p', '%k': '%-H', '%l': '%-I', '%c': '%-m', '%e': '%-d', '%v': '%V', '%h': '%I', '%W': '%A', '%M': '%B', '%f': '%f',
};
/** Letters Trino's date_format refuses (strftime would answer something else). */
const MYSQL_REFUSED = new Set(['%D', '%U', '%u', '%V', '%w', '%X']);
export function mysqlToStrftime(format: string): string {
  return format.replace(/%./g, (m) => {
    if (MYSQL_REFUSED.has(m)) throw new TranslationError(`date_format: ${m} not supported in date format string (Athena refuses it too)`);
    return MYSQL[m] ?? m;
  });
}

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
function formatArg(c: Call, i: number, convert: (s: string) => string): string {
  const literal = c.literals[i];
  if (literal === null || literal === undefined) throw new TranslationError(`${c.name}: the format must be a string literal locally`);
  return quote(convert(literal));
}

/** Why a field of a value that keeps its own offset is refused. */
export const unknownOffset = (what: string): string =>
  `${what} of a from_iso8601_timestamp value reads it in the offset of its own text in Athena, which the local engine does not keep (it keeps the instant): convert it AT TIME ZONE 'UTC' (or another zone) first`;

/** A translation the local engine cannot make; the message names the form. */
export class TranslationError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'TranslationError';
  }
}

const asTimestamp = (x: string, t: SqlType | undefined): string => (t && isNamed(t, 'timestamp', 'timestamp with time zone') ? x : `CAST(${x} AS TIMESTAMP)`);

/** Athena's functions the local engine runs, by lowercase name. */
export const FUNCTIONS: Readonly<Record<string, FunctionRule>> = {
  // Conditional and JSON (json_* macros in the engine follow Trino's path and NULL rules).
  nullif: same(first), if: { to: (c) => `CASE WHEN ${a(c, 0)} THEN ${a(c, 1)} ELSE ${a(c, 2)} END`, returns: (t) => t[1] ?? UNKNOWN, arity: [2, 3] },
  try: { to: 'try', returns: first, arity: [1] },
  // NULL when an argument is (Trino), where DuckDB's skip NULLs.
  greatest: { to: (c) => `CASE WHEN ${c.args.map((x) => `${x} IS NULL`).join(' OR ')} THEN NULL ELSE greatest(${c.args.join(', ')}) END`, returns: (t) => unify(t) },
  least: { to: (c) => `CASE WHEN ${c.args.map((x) => `${x} IS NULL`).join(' OR ')} THEN NULL ELSE least(${c.args.join(', ')}) END`, returns: (t) => unify(t) },
  coalesce: { to: 'coalesce', returns: (t) => unify(t) },
  // The type the translator followed, the argument still evaluated (an aggregate stays one).
  typeof: {
    to: (c) => {
      const t = c.types[0] ?? UNKNOWN;
      if (/^NULL$/i.test(a(c, 0))) return `'unknown'`;
      if (isUnknown(t) || (t.kind === 'scalar' && t.name === 'decimal')) return `athena_typeof(${a(c, 0)})`;
      return `CASE WHEN ${a(c, 0)} IS NULL THEN ${quote(trinoTypeName(t))} ELSE ${quote(trinoTypeName(t))} END`;
    },
    returns: VARCHAR,
    arity: [1],
  },
  json_parse: same(JSON_TYPE), json_format: same(VARCHAR), json_extract: same(JSON_TYPE), json_extract_scalar: same(VARCHAR), json_size: same(BIGINT),
  json_array_length: { to: (c) => `json_array_length(TRY_CAST(${a(c, 0)} AS JSON))`, returns: BIGINT, arity: [1] },
  json_array_get: { to: (c) => `json_extract(TRY_CAST(${a(c, 0)} AS JSON), '$[' || CAST(${a(c, 1)} AS VARCHAR) || ']')`, returns: JSON_TYPE, arity: [2] },
  json_array_contains: { to: (c) => `list_contains(CAST(TRY_CAST(${a(c, 0)} AS JSON) AS JSON[]), CAST(to_json(${a(c, 1)}) AS JSON))`, returns: BOOLEAN, arity: [2] },
  // Strings.
  length: { to: (c) => (isNamed(c.types[0] ?? UNKNOWN, 'varbinary') ? `octet_length(${a(c, 0)})` : `length(${a(c, 0)})`), returns: BIGINT, arity: [1] }, lower: same(VARCHAR), upper: same(VARCHAR), trim: same(VARCHAR), ltrim: same(VARCHAR), rtrim: same(VARCHAR), reverse: { to: (c) => (c.types[0]?.kind === 'array' ? `list_reverse(${a(c, 0)})` : `reverse(${a(c, 0)})`), returns: first, arity: [1] },
  lpad: same(VARCHAR), rpad: same(VARCHAR), starts_with: same(BOOLEAN), strpos: { to: 'strpos', returns: BIGINT, arity: [2] },
  // Trino answers '' from position 0 (DuckDB reads it as 1).
  substr: { to: (c) => `athena_substr(${a(c, 0)}, ${a(c, 1)}, ${c.args.length > 2 ? a(c, 2) : 'NULL'})`, returns: VARCHAR, arity: [2, 3] },
  substring: { to: (c) => `athena_substr(${a(c, 0)}, ${a(c, 1)}, ${c.args.length > 2 ? a(c, 2) : 'NULL'})`, returns: VARCHAR, arity: [2, 3] },
  chr: same(VARCHAR), codepoint: { to: 'unicode', returns: INTEGER }, levenshtein_distance: { to: 'levenshtein', returns: BIGINT }, hamming_distance: { to: 'hamming', returns: BIGINT },
  replace: { to: (c) => `replace(${a(c, 0)}, ${a(c, 1)}, ${c.args.length > 2 ? a(c, 2) : "''"})`, returns: VARCHAR, arity: [2, 3] },
  // Trino's concat is NULL when an argument is; DuckDB's skips NULLs.
  concat: {
    to: (c) => {
      const text = c.types.some((t) => isNamed(t, 'varchar', 'char'));
      const other = c.types.find((t) => t.kind === 'scalar' && !isNamed(t, 'varchar', 'char', 'unknown'));
      if (text && other) throw new TranslationError(`concat takes text or arrays, not text and ${trinoTypeName(other)} (Athena refuses it too): CAST the ${trinoTypeName(other)} to VARCHAR`);
      return c.types.some((t) => t.kind === 'array') ? `list_concat(${c.args.join(', ')})` : `(${c.args.join(' || ')})`;
    },
    returns: first,
  },
  split: { to: 'string_split', returns: arrayOf(VARCHAR), arity: [2] },
  split_part: { to: (c) => `athena_split_part(${c.args.join(', ')})`, returns: VARCHAR, arity: [3] },
  regexp_like: { to: 'regexp_matches', returns: BOOLEAN, arity: [2] },
  // Trino answers NULL where nothing matches, and replaces every match.
  regexp_extract: { to: (c) => `CASE WHEN regexp_matches(${a(c, 0)}, ${a(c, 1)}) THEN regexp_extract(${c.args.join(', ')}) END`, returns: VARCHAR, arity: [2, 3] },
  regexp_extract_all: { to: 'regexp_extract_all', returns: arrayOf(VARCHAR), arity: [2, 3] },
  regexp_replace: {
    to: (c) => `regexp_replace(${a(c, 0)}, ${a(c, 1)}, ${c.args.length > 2 ? (c.literals[2] !== null && c.literals[2] !== undefined ? quote(c.literals[2].replace(/\$(\d)/g, '\\$1')) : a(c, 2)) : "''"}, 'g')`,
    returns: VARCHAR,
    arity: [2, 3],
  },
  to_utf8: { to: 'encode', returns: scalar('varbinary'), arity: [1] }, from_utf8: { to: 'decode', returns: VARCHAR, arity: [1] },
  to_hex: same(VARCHAR), md5: { to: (c) => `unhex(md5(${a(c, 0)}))`, returns: scalar('varbinary'), arity: [1] },
  url_extract_host: { to: (c) => `regexp_extract(${a(c, 0)}, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)', 1)`, returns: VARCHAR, arity: [1] },
  // Math.
  abs: same(first), ceil: same(first), ceiling: { to: 'ceil', returns: first }, floor: same(first), round: same(first), truncate: { to: 'trunc', returns: first },
  sign: same(first), sqrt: same(DOUBLE), cbrt: same(DOUBLE), exp: same(DOUBLE), ln: same(DOUBLE), log2: same(DOUBLE), log10: same(DOUBLE), log: same(DOUBLE),
  width_bucket: { to: (c) => `athena_width_bucket(${c.args.join(', ')})`, returns: BIGINT, arity: [4] },
  format: { to: 'printf', returns: VARCHAR },
  to_base: { to: (c) => `lower(to_base(${a(c, 0)}, ${a(c, 1)}))`, returns: VARCHAR, arity: [2] },
  from_base: { to: 'athena_from_base', returns: BIGINT, arity: [2] },
  power: same(DOUBLE), pow: { to: 'power', returns: DOUBLE }, pi: same(DOUBLE), e: { to: () => 'exp(1)', returns: DOUBLE, arity: [0] },
  mod: { to: (c) => `athena_mod(${a(c, 0)}, ${a(c, 1)})`, returns: first, arity: [2] },
  rand: { to: 'random', returns: DOUBLE, arity: [0] }, random: { to: 'random', returns: DOUBLE, arity: [0] },
  is_nan: { to: 'isnan', returns: BOOLEAN }, is_finite: { to: 'isfinite', returns: BOOLEAN }, is_infinite: { to: 'isinf', returns: BOOLEAN },
  nan: { to: () => `CAST('NaN' AS DOUBLE)`, returns: DOUBLE, arity: [0] }, infinity: { to: () => `CAST('Infinity' AS DOUBLE)`, returns: DOUBLE, arity: [0] },
  // Dates and times (the session time zone is UTC, as Athena's).
  now: { to: () => 'current_timestamp', returns: TIMESTAMP_TZ, arity: [0] },
  current_timezone: { to: () => `'UTC'`, returns: VARCHAR, arity: [0] },
  last_day_of_month: { to: (c) => `last_day(${a(c, 0)})`, returns: DATE, arity: [1] },
  to_milliseconds: { to: (c) => `CAST(round(epoch(${a(c, 0)}) * 1000) AS BIGINT)`, returns: BIGINT, arity: [1] },
  date: { to: (c) => `CAST(${a(c, 0)} AS DATE)`, returns: DATE, arity: [1] },
  year: same(BIGINT), month: same(BIGINT), day: same(BIGINT), day_of_month: { to: 'day', returns: BIGINT }, hour: same(BIGINT), minute: same(BIGINT), second: same(BIGINT),
  millisecond: { to: (c) => `(millisecond(${a(c, 0)}) % 1000)`, returns: BIGINT, arity: [1] },
  quarter: same(BIGINT), week: same(BIGINT), week_of_year: { to: 'week', returns: BIGINT }, year_of_week: { to: 'isoyear', returns: BIGINT }, yow: { to: 'isoyear', returns: BIGINT },
  day_of_week: { to: 'isodow', returns: BIGINT }, dow: { to: 'isodow', returns: BIGINT }, day_of_year: { to: 'dayofyear', returns: BIGINT }, doy: { to: 'dayofyear', returns: BIGINT },
  date_add: { to: dateAdd, returns: (t, c) => (c.zones[2] ? zoned(c.zones[2]) : (t[2] ?? UNKNOWN)), arity: [3] },
  // Trino counts whole units between the two (DuckDB's date_sub), not boundaries crossed.
  date_diff: { to: (c) => unitCall('date_sub', c), returns: BIGINT, arity: [3] },
  date_trunc: {
    to: (c) => {
      const zone = c.zones[1];
      if (zone && zone !== 'UTC') return fromWallClock(unitCall('date_trunc', c), zone);
      return isNamed(c.types[1] ?? UNKNOWN, 'date') ? `CAST(${unitCall('date_trunc', c)} AS DATE)` : unitCall('date_trunc', c);
    },
    returns: (t, c) => (c.zones[1] ? zoned(c.zones[1]) : (t[1] ?? UNKNOWN)),
    arity: [2],
  },
  timezone_hour: { to: (c) => `CAST((epoch(${zonedWall(c)}) - epoch(${a(c, 0)})) // 3600 AS BIGINT)`, returns: BIGINT, arity: [1] },
  timezone_minute: { to: (c) => `CAST(((epoch(${zonedWall(c)}) - epoch(${a(c, 0)})) // 60) % 60 AS BIGINT)`, returns: BIGINT, arity: [1] },
  with_timezone: {
    to: (c) => {
      if (c.literals[1] === null || c.literals[1] === undefined) throw new TranslationError('with_timezone: the zone must be a literal here');
      return fromWallClock(`CAST(${a(c, 0)} AS TIMESTAMP)`, c.literals[1]);
    },
    returns: (_t, c) => zoned(c.literals[1] ?? 'UTC'),
    arity: [2],
  },
  from_unixtime: { to: 'from_unixtime', returns: TIMESTAMP_TZ, arity: [1] }, to_unixtime: same(DOUBLE),
  // Each value keeps the offset its text names; a literal's is known here, a column's is not (OFFSET_UNKNOWN).
  from_iso8601_timestamp: {
    to: (c) => `CAST(${a(c, 0)} AS TIMESTAMPTZ)`,
    returns: (_t, c) => {
      const text = c.literals[0];
      if (text === null || text === undefined) return zoned(OFFSET_UNKNOWN);
      const offset = /(Z|[+-]\d\d(?::?\d\d)?)$/.exec(text.trim())?.[1];
      return zoned(offset === undefined || offset === 'Z' ? 'UTC' : offset.length === 3 ? `${offset}:00` : offset.includes(':') ? offset : `${offset.slice(0, 3)}:${offset.slice(3)}`);
    },
    arity: [1],
  },
  from_iso8601_date: { to: (c) => `CAST(${a(c, 0)} AS DATE)`, returns: DATE, arity: [1] },
  to_iso8601: {
    to: (c) => {
      const t = c.types[0] ?? UNKNOWN;
      if (isNamed(t, 'date')) return `strftime(${a(c, 0)}, '%Y-%m-%d')`;
      const micro = t.kind === 'scalar' && /\(6\)/.test(t.name) ? '%f' : '%g';
      const zone = c.zones[0];
      if (zone && zone !== 'UTC') throw new TranslationError(`to_iso8601: the offset of a value in ${zone} is not written locally; convert it AT TIME ZONE 'UTC' first`);
      const suffix = zone === 'UTC' ? 'Z' : '';
      return `strftime(${asTimestamp(a(c, 0), t)}, '%Y-%m-%dT%H:%M:%S.${micro}${suffix}')`;
    },
    returns: VARCHAR,
    arity: [1],
  },
  date_format: { to: (c) => `strftime(${asTimestamp(a(c, 0), c.types[0])}, ${formatArg(c, 1, mysqlToStrftime)})`, returns: VARCHAR, arity: [2] },
  date_parse: { to: (c) => `strptime(${a(c, 0)}, ${formatArg(c, 1, mysqlToStrftime)})`, returns: TIMESTAMP, arity: [2] },
  format_datetime: {
    to: (c) => {
      if (c.zones[0] && c.zones[0] !== 'UTC' && /[Zz]/.test((c.literals[1] ?? '').replace(/'[^']*'/g, ''))) {
        throw new TranslationError(`format_datetime: the zone letters of a value in ${c.zones[0]} are not written locally; format it AT TIME ZONE 'UTC', or run the query on Athena`);
      }
      return `strftime(${asTimestamp(a(c, 0), c.types[0])}, ${formatArg(c, 1, jodaToStrftime)})`;
    },
    returns: VARCHAR,
    arity: [2],
  },
  parse_datetime: { to: (c) => `strptime(${a(c, 0)}, ${formatArg(c, 1, jodaToStrftime)})`, returns: TIMESTAMP, arity: [2] },
  // Arrays and maps.
  cardinality: { to: (c) => (c.types[0]?.kind === 'map' ? `cardinality(${a(c, 0)})` : c.types[0]?.kind === 'array' ? `len(${a(c, 0)})` : `athena_cardinality(${a(c, 0)})`), returns: BIGINT, arity: [1] },
  element_at: { to: (c) => (c.types[0]?.kind === 'map' ? `${a(c, 0)}[${a(c, 1)}]` : c.types[0]?.kind === 'array' ? `athena_element_at(${a(c, 0)}, ${a(c, 1)})` : `${a(c, 0)}[${a(c, 1)}]`), returns: (t) => (t[0]?.kind === 'map' ? t[0].value : elementOf(t)), arity: [2] },
  contains: { to: 'list_contains', returns: BOOLEAN, arity: [2] },
  array_join: { to: (c) => (c.args.length > 2 ? `array_to_string(list_transform(${a(c, 0)}, x -> coalesce(CAST(x AS VARCHAR), ${a(c, 2)})), ${a(c, 1)})` : `array_to_string(${a(c, 0)}, ${a(c, 1)})`), returns: VARCHAR, arity: [2, 3] },
  slice: { to: (c) => `athena_slice(${c.args.join(', ')})`, returns: first, arity: [3] },
  array_max: { to: 'athena_array_max', returns: elementOf, arity: [1] }, array_min: { to: 'athena_array_min', returns: elementOf, arity: [1] },
  array_distinct: { to: 'athena_array_distinct', returns: first, arity: [1] }, array_sort: { to: 'list_sort', returns: first, arity: [1] },
  array_position: { to: (c) => `coalesce(list_position(${a(c, 0)}, ${a(c, 1)}), 0)`, returns: BIGINT, arity: [2] },
  array_remove: { to: (c) => `list_filter(${a(c, 0)}, athena_x -> athena_x IS DISTINCT FROM ${a(c, 1)})`, returns: first, arity: [2] },
  array_intersect: { to: 'list_intersect', returns: first, arity: [2] }, array_union: { to: (c) => `athena_array_distinct(list_concat(${a(c, 0)}, ${a(c, 1)}))`, returns: first, arity: [2] },
  arrays_overlap: { to: 'list_has_any', returns: BOOLEAN, arity: [2] },
  array_except: { to: (c) => `athena_array_distinct(list_filter(${a(c, 0)}, athena_x -> NOT list_contains(${a(c, 1)}, athena_x)))`, returns: first, arity: [2] },
  flatten: same(elementOf),
  sequence: {
    to: (c) =>
      isNamed(c.types[0] ?? UNKNOWN, 'date')
        ? `CAST(generate_series(CAST(${a(c, 0)} AS TIMESTAMP), CAST(${a(c, 1)} AS TIMESTAMP), ${c.args.length > 2 ? a(c, 2) : "INTERVAL '1' DAY"}) AS DATE[])`
        : `generate_series(${c.args.join(', ')})`,
    returns: (t) => arrayOf(t[0] && isInteger(t[0]) ? BIGINT : (t[0] ?? BIGINT)),
    arity: [2, 3],
  },
  repeat: { to: (c) => `list_transform(range(${a(c, 1)}), athena_x -> ${a(c, 0)})`, returns: (t) => arrayOf(t[0] ?? UNKNOWN), arity: [2] },
  map_keys: { to: 'map_keys', returns: (t) => (t[0]?.kind === 'map' ? arrayOf(t[0].key) : UNKNOWN), arity: [1] },
  map_values: { to: 'map_values', returns: (t) => (t[0]?.kind === 'map' ? arrayOf(t[0].value) : UNKNOWN), arity: [1] },
  map: { to: (c) => (c.args.length === 0 ? 'MAP {}' : `map(${c.args.join(', ')})`), returns: (t) => mapOf(elementOf(t), elementOf(t.slice(1))), arity: [0, 2] },
  map_concat: same(first), map_from_entries: same(UNKNOWN),
  // Aggregates. approx_distinct is a HyperLogLog on both engines; approx_percentile answers exactly
  // here (within Trino's error bound, and the same every run).
  count: agg('count', BIGINT), count_if: agg('count_if', BIGINT),
  sum: {
    to: (c) => {
      if (isNamed(c.types[0] ?? UNKNOWN, 'boolean')) throw new TranslationError('sum takes numbers, not a boolean (Athena refuses it too): count_if(…) counts the true ones');
      return `sum(${c.distinct ? 'DISTINCT ' : ''}${a(c, 0)})${c.after}`;
    },
    returns: (t) => (t[0] && isNamed(t[0], 'integer', 'smallint', 'tinyint', 'bigint') ? BIGINT : first(t)),
    aggregate: true,
    arity: [1],
  },
  // Trino keeps a decimal's scale, rounding half up; DuckDB answers a double.
  avg: {
    to: (c) => {
      const d = decimalOf(c.types[0] ?? UNKNOWN);
      const call = `avg(${c.distinct ? 'DISTINCT ' : ''}${a(c, 0)})${c.after}`;
      return d && isNamed(c.types[0] as SqlType, 'decimal') ? `CAST(${call} + sign(${call}) * 1e-12 AS DECIMAL(38, ${d.s}))` : call;
    },
    returns: (t) => (t[0] && isNamed(t[0], 'decimal') ? decimal(38, decimalOf(t[0])?.s ?? 0) : DOUBLE),
    aggregate: true,
    arity: [1],
  }, min: agg('min', first), max: agg('max', first), arbitrary: agg('any_value', first), any_value: agg('any_value', first),
  bool_and: agg('bool_and', BOOLEAN), bool_or: agg('bool_or', BOOLEAN), every: agg('bool_and', BOOLEAN),
  max_by: agg('max_by', first), min_by: agg('min_by', first),
  array_agg: agg('array_agg', (t) => arrayOf(t[0] ?? UNKNOWN)), histogram: agg('histogram', (t) => mapOf(t[0] ?? UNKNOWN, BIGINT)),
  map_agg: { to: (c) => `map(array_agg(${a(c, 0)}${c.tail})${c.after}, array_agg(${a(c, 1)}${c.tail})${c.after})`, returns: (t) => mapOf(t[0] ?? UNKNOWN, t[1] ?? UNKNOWN), arity: [2], aggregate: true },
  approx_distinct: { to: (c) => `approx_count_distinct(${a(c, 0)})${c.after}`, returns: BIGINT, arity: [1, 2], aggregate: true },
  approx_percentile: { ...agg('quantile_disc', (t) => (t[1]?.kind === 'array' ? arrayOf(t[0] ?? DOUBLE) : (t[0] ?? DOUBLE))), arity: [2] },
  stddev: agg('stddev_samp', DOUBLE), stddev_samp: agg('stddev_samp', DOUBLE), stddev_pop: agg('stddev_pop', DOUBLE),
  variance: agg('var_samp', DOUBLE), var_samp: agg('var_samp', DOUBLE), var_pop: agg('var_pop', DOUBLE),
  corr: agg('corr', DOUBLE), covar_samp: agg('covar_samp', DOUBLE), covar_pop: agg('covar_pop', DOUBLE),
  geometric_mean: agg('geometric_mean', DOUBLE),
  // Window functions.
  row_number: agg('row_number', BIGINT), rank: agg('rank', BIGINT), dense_rank: agg('dense_rank', BIGINT), percent_rank: agg('percent_rank', DOUBLE),
  cume_dist: agg('cume_dist', DOUBLE), ntile: agg('ntile', BIGINT), lag: agg('lag', first), lead: agg('lead', first),
  first_value: agg('first_value', first), last_value: agg('last_value', first), nth_value: agg('nth_value', first),
};


/** DuckDB's name for a registry entry whose `to` is empty (the same name). */
export const duckName = (name: string, rule: FunctionRule): string => (typeof rule.to === 'string' && rule.to !== '' ? rule.to : name);

/** Trino functions Athena has that the local engine does not run (a query using one runs on Athena only). */
export const ATHENA_ONLY: ReadonlySet<string> = new Set(
  `approx_most_frequent approx_set bing_tile bing_tile_at bing_tile_coordinates bing_tile_polygon bing_tile_quadkey bing_tile_zoom_level bing_tiles_around
  bitwise_and bitwise_and_agg bitwise_left_shift bitwise_not bitwise_or bitwise_or_agg bitwise_right_shift bitwise_xor bit_count bar color render rgb
  classify features learn_classifier learn_libsvm_classifier learn_libsvm_regressor learn_regressor regress
  combinations cosine_similarity crc32 current_groups date_diff_tz empty_approx_set evaluate_classifier_predictions
  from_base32 from_base64 from_base64url from_big_endian_32 from_big_endian_64 from_hex from_ieee754_32 from_ieee754_64 from_iso8601_timestamp_nanos
  geometric_union geometry_from_hadoop_shape geometry_invalid_reason geometry_nearest_points geometry_to_bing_tiles geometry_union great_circle_distance
  hmac_md5 hmac_sha1 hmac_sha256 hmac_sha512 human_readable_seconds index inverse_beta_cdf inverse_normal_cdf beta_cdf normal_cdf wilson_interval_lower wilson_interval_upper
  json_array_get_scalar json_value json_query json_exists kurtosis skewness line_interpolate_point line_locate_point luhn_check
  make_set_digest map_entries_agg map_filter_keys map_union map_union_sum merge merge_set_digest multimap_agg multimap_from_entries
  ngrams normalize numeric_histogram parse_data_size parse_duration parse_presto_data_size qdigest_agg quantile_at_value reduce_agg regr_intercept regr_slope
  sha1 sha256 sha512 shuffle soundex spooky_hash_v2_32 spooky_hash_v2_64 st_area st_asbinary st_astext st_boundary st_buffer st_centroid st_contains st_convexhull
  st_coorddim st_crosses st_difference st_dimension st_disjoint st_distance st_endpoint st_envelope st_equals st_exteriorring st_geometries st_geometryfromtext
  st_geometryn st_geometrytype st_geomfrombinary st_interiorringn st_intersection st_intersects st_isclosed st_isempty st_isring st_issimple st_isvalid
  st_length st_linefromtext st_linestring st_multipoint st_numgeometries st_numinteriorring st_numpoints st_overlaps st_point st_pointn st_points st_polygon
  st_relate st_startpoint st_symdifference st_touches st_union st_within st_x st_xmax st_xmin st_y st_ymax st_ymin tdigest_agg 
  to_base32 to_base64 to_base64url to_big_endian_32 to_big_endian_64 to_char to_date to_geometry to_ieee754_32 to_ieee754_64 to_spherical_geography to_timestamp
  translate trim_array url_decode url_encode url_extract_fragment url_extract_parameter url_extract_path url_extract_port url_extract_protocol url_extract_query
  uuid value_at_quantile values_at_quantiles word_stem xxhash64 zip array_frequency array_histogram array_has_duplicates array_duplicates
  at_timezone localtime lower_bound upper_bound hash_counts intersection_cardinality jaccard_index make_set_digest
  approx_percentile_weighted`
    .split(/\s+/)
    .filter((n) => n !== '' && !(n in FUNCTIONS)),
);
