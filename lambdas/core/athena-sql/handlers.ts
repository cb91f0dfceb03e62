/**
 * The nodes of Trino's syntax tree whose DuckDB form differs, each with its writer. The order
 * matters: the first class a node is an instance of wins.
 */
import type { ParseTree } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { TranslationError, unknownOffset } from './functions.js';
import { identifierName, identifierParts, quoteIdent, quoteString, stringValue, unwrap, wallClock } from './sql-text.js';
import type { Handler, Translator } from './translate.js';
import { duckTypeOfSyntax, hasRow, jsonStructure, timestampFormat, typeOfSyntax } from './type-syntax.js';
import {
  BIGINT, BOOLEAN, DATE, DOUBLE, INTEGER, JSON_TYPE, OFFSET_UNKNOWN, type SqlType, TIMESTAMP, TIMESTAMP_TZ, UNKNOWN, VARCHAR, arithmeticType, arrayOf, decimalLiteral, decimalOf, duckType,
  isInteger, isNamed, isTemporal, isText, isUnknown, scalar, trinoTypeName, unify, unnestColumns, zoneOf, zoned,
} from './types.js';

const h = <N extends object>(type: abstract new (...args: never[]) => N, write: (t: Translator, node: N) => string): Handler => ({ type, write: write as Handler['write'] });

const NUMBERS = ['tinyint', 'smallint', 'integer', 'bigint', 'real', 'double', 'decimal'];
const comparable = (t: SqlType): boolean => isTemporal(t) || isNamed(t, ...NUMBERS, 'boolean');

/** Trino has no implicit cast from text: `DATE = varchar` is an error there, so it is one here. */
function checkComparison(left: SqlType, right: SqlType, op: string): void {
  const [text, other] = isText(left) ? [left, right] : [right, left];
  if (!isText(text) || !comparable(other) || other.kind !== 'scalar') return;
  const fix = isNamed(other, 'date') ? ` (write DATE '2026-11-22', or CAST(… AS DATE))` : isTemporal(other) ? ` (write TIMESTAMP '…', or CAST(… AS ${other.name.toUpperCase()}))` : ` (CAST one side to the other's type)`;
  throw new TranslationError(`Cannot apply operator: ${other.name} ${op} varchar; Athena refuses to compare ${other.name} with text${fix}`);
}

/** The UNNEST of `args` as a lateral subquery of DuckDB: maps to key and value, arrays of rows to their fields. */
function unnest(t: Translator, node: T.UnnestContext, aliases: readonly string[]): { sql: string; types: SqlType[] } {
  const args = node.expression().map((e) => ({ sql: t.emit(e), type: t.typeOf(e) }));
  const ordinality = node.KW_ORDINALITY() !== null;
  const rows = args.filter((a) => a.type.kind === 'array' && a.type.element.kind === 'row');
  const types = args.flatMap((a) => unnestColumns(a.type));
  const lists = args.flatMap((a) => (a.type.kind === 'map' ? [`map_keys(${a.sql})`, `map_values(${a.sql})`] : [a.sql]));
  const length = `greatest(${lists.map((l) => `coalesce(len(${l}), 0)`).join(', ')}${lists.length === 1 ? ', 0' : ''})`;
  const ord = ordinality ? [`unnest(range(1, ${length} + 1))`] : [];
  if (ordinality) types.push(BIGINT);
  if (rows.length > 0) {
    if (args.length > 1) throw new TranslationError('UNNEST of several arrays where one holds rows is not supported locally; UNNEST them one by one');
    const inner = `SELECT unnest(${lists[0]}) AS athena_row${ordinality ? `, unnest(range(1, ${length} + 1)) AS athena_ordinal` : ''}`;
    return { sql: `LATERAL (SELECT unnest(athena_row)${ordinality ? ', athena_ordinal' : ''} FROM (${inner}))`, types };
  }
  if (aliases.length > 0 && aliases.length !== types.length) {
    throw new TranslationError(`UNNEST yields ${types.length} column${types.length === 1 ? '' : 's'} here, but the alias names ${aliases.length}`);
  }
  return { sql: `LATERAL (SELECT ${[...lists.map((l) => `unnest(${l})`), ...ord].join(', ')})`, types };
}

function aliasedRelation(t: Translator, node: T.AliasedRelationContext): string {
  const primary = node.relationPrimary();
  const alias = node.identifier() ? identifierName(node.identifier() as ParseTree) : null;
  const aliases = node.columnAliases()?.identifier().map((i) => identifierName(i)) ?? [];
  let sql: string;
  let names: string[] = alias ? [alias] : [];
  let columns: [string, SqlType][];
  let hidden: readonly string[] = [];
  const source = primary instanceof T.ExpressionSourceTableContext ? primary.getChild(0) : null;
  if (primary instanceof T.TableNameContext) {
    const table = t.tableRelation(primary, identifierParts(primary.tableOrViewName()));
    sql = table.sql;
    hidden = table.hidden;
    if (!alias) {
      names = [table.name];
      if (sql !== quoteIdent(table.name)) sql += ` AS ${quoteIdent(table.name)}`;
    }
    columns = [...table.columns];
  } else if (source instanceof T.UnnestContext) {
    const u = unnest(t, source, aliases);
    sql = u.sql;
    columns = u.types.map((type, i) => [aliases[i] ?? `_col${i}`, type]);
  } else if (source instanceof T.SubqueryRelationContext || primary instanceof T.SubqueryRelationContext) {
    const query = (source instanceof T.SubqueryRelationContext ? source : (primary as T.SubqueryRelationContext)).query();
    sql = `(${t.emit(query)})`;
    columns = [...t.outputOf(query)];
  } else {
    sql = t.emit(primary);
    columns = [];
  }
  if (aliases.length > 0) columns = columns.map(([, type], i) => [aliases[i] ?? `_col${i}`, type]);
  t.addRelation({ names, columns: new Map(columns), hidden });
  const aliasText = alias ? ` AS ${quoteIdent(alias)}${aliases.length > 0 ? `(${aliases.map(quoteIdent).join(', ')})` : ''}` : '';
  return `${sql}${aliasText}`;
}

function querySpecification(t: Translator, node: T.QuerySpecificationContext): string {
  t.pushScope();
  try {
    const relations = new Map(node.relation().map((r) => [r as ParseTree, t.emit(r)]));
    const selectItems = node.selectList().selectItem();
    // Trino reads no SELECT alias in WHERE, GROUP BY, HAVING or another select item (DuckDB does).
    t.setAliases(selectItems.flatMap((item) => (item.identifier() ? [identifierName(item.identifier() as ParseTree)] : [])));
    const output: [string, SqlType][] = [];
    const items: string[] = [];
    selectItems.forEach((item, index) => {
      const text = t.emit(item);
      const alias = item.identifier() ? identifierName(item.identifier() as ParseTree) : null;
      const expression = item.selectExpressionColumnName()?.expression() ?? item.selectLiteralColumnName();
      if (item.tableAllColumns() || item.selectAllWithoutTable()) {
        const qualifier = item.tableAllColumns() ? (text.replace(/\s*\.\s*\*$/, '').split('.').at(-1)?.replace(/^"|"$/g, '') ?? null) : null;
        const hidden = t.hiddenColumns(qualifier);
        output.push(...t.starColumns(qualifier).filter(([c]) => !hidden.includes(c)));
        items.push(hidden.length > 0 ? `${text} EXCLUDE (${hidden.map(quoteIdent).join(', ')})` : text);
        return;
      }
      const type = t.typeOf(expression);
      const natural = item.selectLiteralColumnName() ? (item.selectLiteralColumnName()?.getText().split('.').at(-1) ?? '').replace(/^["`]|["`]$/g, '').toLowerCase() : null;
      const name = alias ?? natural ?? `_col${index}`;
      output.push([name, type]);
      items.push(alias || natural ? text : `${text} AS ${quoteIdent(name)}`);
    });
    t.recordOutput(node, output);
    let out = '';
    for (let i = 0; i < node.getChildCount(); i++) {
      const child = node.getChild(i) as ParseTree;
      const text = child instanceof T.SelectListContext ? items.join(', ') : (relations.get(child) ?? t.emit(child));
      out += out === '' || text.startsWith(',') ? text : ` ${text}`;
    }
    return out.replace(/ ,/g, ',');
  } finally {
    t.popScope();
  }
}

function queryNoWith(t: Translator, node: T.QueryNoWithContext): string {
  const parts = [t.emit(node.queryTerm())];
  if (node.sortItem().length > 0) parts.push(`ORDER BY ${node.sortItem().map((s) => t.emit(s)).join(', ')}`);
  const limit = node._limit?.rowCount();
  if (limit) parts.push(`LIMIT ${limit.getText()}`);
  if (node._fetchFirst) parts.push(`LIMIT ${node._fetchFirst.getText()}`);
  if (node._offset) parts.push(`OFFSET ${node._offset.getText()}`);
  return parts.join(' ');
}

function arithmetic(t: Translator, node: T.ArithmeticBinaryContext): string {
  const [l, r] = [node.valueExpression(0) as ParseTree, node.valueExpression(1) as ParseTree];
  const [ls, rs] = [t.emit(l), t.emit(r)];
  const [lt, rt] = [t.typeOf(l), t.typeOf(r)];
  const op = node._operator?.text ?? '';
  const strict = t.inTry === 0 ? '' : '_or_null';
  if (op === '/') {
    // Integers divide to an integer (the connection sets integer_division); by zero is an error, as in Trino.
    if (isNamed(lt, 'double', 'real') || isNamed(rt, 'double', 'real')) return t.typed(node, `athena_double_divide(${ls}, ${rs})`, DOUBLE);
    const type = arithmeticType(lt, rt, '/');
    const d = decimalOf(type);
    // A decimal quotient keeps the larger scale, rounded half up (DuckDB's would be a double).
    if (d && isNamed(type, 'decimal')) return t.typed(node, `CAST(athena_decimal_divide${strict}(${ls}, ${rs}, ${d.s}) AS DECIMAL(${d.p}, ${d.s}))`, type);
    return t.typed(node, `athena_divide${strict}(${ls}, ${rs})`, type);
  }
  if (op === '%') return t.typed(node, `athena_mod${strict}(${ls}, ${rs})`, arithmeticType(lt, rt, '%'));
  // A DATE plus or minus an interval stays a DATE.
  if (isNamed(lt, 'date') && isNamed(rt, 'interval')) return t.typed(node, `CAST(${ls} ${op} ${rs} AS DATE)`, DATE);
  if (isTemporal(lt) && isTemporal(rt) && op === '-') return t.typed(node, `(${ls} - ${rs})`, scalar('interval'));
  const type = isTemporal(lt) ? lt : isTemporal(rt) ? rt : arithmeticType(lt, rt, op);
  return t.typed(node, `(${ls} ${op} ${rs})`, type);
}

function cast(t: Translator, node: T.CastContext): string {
  const inner = node.expression();
  const sql = t.emit(inner);
  const from = t.typeOf(inner);
  const to = typeOfSyntax(node.type());
  const tryCast = node.KW_TRY_CAST() !== null;
  const fn = tryCast ? 'TRY_CAST' : 'CAST';
  const strict = tryCast || t.inTry > 0 ? '_or_null' : '';
  if (isText(to) && isNamed(from, 'json')) return t.typed(node, `athena_json_to_varchar${strict}(${sql})`, VARCHAR);
  // Trino writes a timestamp with its precision's digits, and a zoned one with its zone (UTC here).
  if (isText(to) && isNamed(from, 'timestamp')) return t.typed(node, `strftime(${sql}, ${timestampFormat(from)})`, VARCHAR);
  const zone = zoneOf(from);
  if (zone === OFFSET_UNKNOWN && (isText(to) || isNamed(to, 'timestamp', 'date'))) throw new TranslationError(unknownOffset(`CAST(… AS ${trinoTypeName(to).toUpperCase()})`));
  if (zone !== null) {
    const wall = wallClock(sql, zone);
    if (isText(to)) return t.typed(node, `(strftime(${wall}, '%Y-%m-%d %H:%M:%S.%g') || ${quoteString(` ${zone}`)})`, VARCHAR);
    // A zoned value cast to a TIMESTAMP or a DATE keeps its wall clock in its zone.
    if (isNamed(to, 'timestamp')) return t.typed(node, wall, to);
    if (isNamed(to, 'date')) return t.typed(node, `CAST(${wall} AS DATE)`, DATE);
  }
  if (isText(to) && isNamed(from, 'double', 'real')) return t.typed(node, `athena_double_to_varchar(${sql})`, VARCHAR);
  // Text cast to JSON is a JSON string (json_parse reads it); other values become their JSON.
  if (isNamed(to, 'json') && !isNamed(from, 'json', 'unknown')) return t.typed(node, `CAST(to_json(${sql}) AS JSON)`, JSON_TYPE);
  // JSON read as a row takes its fields by name, a missing one NULL (DuckDB's cast refuses extra keys).
  if (isNamed(from, 'json') && to.kind !== 'scalar' && hasRow(to)) {
    // A JSON array read as a row takes its fields by position.
    const value = to.kind === 'row' ? `athena_json_row(${sql}, [${to.fields.map(([n], i) => quoteString(n ?? `field${i}`)).join(', ')}])` : sql;
    return t.typed(node, `${tryCast ? 'try(' : '('}json_transform(${value}, ${quoteString(jsonStructure(to))}))`, to);
  }
  // Trino reads only whole numbers from text into an integer type; DuckDB would round '1.5'.
  // Trino rounds half away from zero into an integer type (DuckDB's cast rounds half to even).
  if (isInteger(to) && (isNamed(from, 'double', 'real') || isNamed(from, 'decimal'))) return t.typed(node, `${fn}(round(${sql}) AS ${duckType(to)})`, to);
  if (isText(to) && from.kind !== 'scalar') throw new TranslationError(`Cannot cast ${trinoTypeName(from)} to varchar (Athena refuses it too); use array_join, json_format(CAST(… AS JSON)) or a field`);
  if (isInteger(to) && isText(from)) {
    return t.typed(node, strict ? `TRY_CAST(athena_text_to_integer_or_null(${sql}, '') AS ${duckType(to)})` : `CAST(athena_text_to_integer(${sql}, ${quoteString(duckType(to))}) AS ${duckType(to)})`, to);
  }
  return t.typed(node, `${fn}(${sql} AS ${duckTypeOfSyntax(node.type())})`, to);
}

function typeConstructor(t: Translator, node: T.TypeConstructorContext): string {
  const name = node.identifier() ? identifierName(node.identifier() as ParseTree) : 'double';
  const value = stringValue(node.string()) ?? '';
  const literal = `'${value.replaceAll("'", "''")}'`;
  const zone = name === 'timestamp' ? /(?:\s+([A-Za-z][\w/+-]*)|([+-]\d\d:?\d\d)|(Z))$/.exec(value.trim().slice(10)) : null;
  if (zone) return t.typed(node, `CAST(${literal} AS TIMESTAMPTZ)`, zoned(zone[1] ?? zone[2] ?? zone[3] ?? 'UTC'));
  const types: Record<string, [string, SqlType]> = {
    date: ['DATE', DATE], timestamp: ['TIMESTAMP', TIMESTAMP], json: ['JSON', JSON_TYPE], decimal: ['DECIMAL(38, 18)', scalar('decimal')], double: ['DOUBLE', DOUBLE],
    real: ['FLOAT', scalar('real')], time: ['TIME', scalar('time')], varchar: ['VARCHAR', VARCHAR], bigint: ['BIGINT', BIGINT], integer: ['INTEGER', INTEGER],
  };
  const known = types[name];
  if (!known) throw new TranslationError(`the literal ${name.toUpperCase()} '…' is not supported locally`);
  if (name === 'timestamp') return t.typed(node, `CAST(${literal} AS TIMESTAMP)`, scalar(`timestamp(${/\.(\d+)/.exec(value)?.[1]?.length ?? 0})`));
  if (name === 'decimal') return t.typed(node, value.includes('.') || value.includes('e') ? value : `${value}.0`, known[1]);
  return t.typed(node, `CAST(${literal} AS ${known[0]})`, known[1]);
}

function subscript(t: Translator, node: T.SubscriptContext): string {
  const base = t.emit(node.primaryExpression());
  const index = t.emit(node.valueExpression());
  const type = t.typeOf(node.primaryExpression());
  // Trino fails on a key a map does not hold, and on an index outside an array.
  const strict = t.inTry === 0 ? '' : '_or_null';
  if (type.kind === 'map') return t.typed(node, `athena_map_get${strict}(${base}, ${index})`, type.value);
  if (type.kind === 'array') return t.typed(node, `athena_array_get${strict}(${base}, ${index})`, type.element);
  if (type.kind === 'row') return t.typed(node, `${base}[${index}]`, UNKNOWN);
  return t.typed(node, `athena_subscript(${base}, ${index})`, UNKNOWN);
}

const EXTRACT: Readonly<Record<string, string>> = {
  year: 'year', quarter: 'quarter', month: 'month', week: 'week', day: 'day', day_of_month: 'day', day_of_week: 'isodow', dow: 'isodow', day_of_year: 'dayofyear',
  doy: 'dayofyear', year_of_week: 'isoyear', yow: 'isoyear', hour: 'hour', minute: 'minute', second: 'second',
};

function predicated(t: Translator, node: T.PredicatedContext): string {
  const text = t.children(node);
  const predicate = node.predicate();
  const left = t.typeOf(node.valueExpression());
  if (predicate instanceof T.ComparisonContext) checkComparison(left, t.typeOf(predicate.valueExpression()), predicate.comparisonOperator().getText());
  if (predicate instanceof T.InListContext) for (const e of predicate.expression()) checkComparison(left, t.typeOf(e), 'IN');
  if (predicate instanceof T.BetweenContext) for (const e of predicate.valueExpression()) checkComparison(left, t.typeOf(e), 'BETWEEN');
  return t.typed(node, text, predicate ? BOOLEAN : t.typeOf(node.valueExpression()));
}

function numeric(t: Translator, node: T.NumericLiteralContext): string {
  const text = node.getText();
  if (/[eE]/.test(text)) return t.typed(node, text, DOUBLE);
  if (text.includes('.')) return t.typed(node, text, decimalLiteral(text));
  return t.typed(node, text, Math.abs(Number(text)) <= 2147483647 ? INTEGER : BIGINT);
}

/** Every node whose DuckDB text is not its own. */
export const HANDLERS: readonly Handler[] = [
  h(T.QuerySpecificationContext, querySpecification),
  h(T.QueryNoWithContext, queryNoWith),
  h(T.NamedQueryContext, (t, node) => {
    const name = identifierName(node.identifier());
    const aliases = node.columnAliases()?.identifier().map((i) => identifierName(i)) ?? [];
    const body = t.emit(node.query());
    const columns = [...t.outputOf(node.query())];
    t.defineCte(name, new Map(aliases.length > 0 ? columns.map(([, type], i) => [aliases[i] ?? `_col${i}`, type]) : columns));
    return `${quoteIdent(name)}${aliases.length > 0 ? `(${aliases.map(quoteIdent).join(', ')})` : ''} AS (${body})`;
  }),
  h(T.AliasedRelationContext, aliasedRelation),
  h(T.SampledRelationContext, (t, node) => {
    const relation = t.emit(node.patternRecognition());
    if (!node.KW_TABLESAMPLE()) return relation;
    const method = node.sampleType()?.KW_SYSTEM() ? 'system' : 'bernoulli';
    return `${relation} TABLESAMPLE ${t.emit(node.expression() as ParseTree)}% (${method})`;
  }),
  h(T.ColumnReferenceContext, (t, node) => t.column(node, identifierParts(node))),
  h(T.ColumnRefContext, (t, node) => t.column(node, identifierParts(node))),
  h(T.DereferenceContext, (t, node) => {
    const base = t.emit(node.primaryExpression());
    const field = identifierName(node.identifier());
    const type = t.typeOf(node.primaryExpression());
    return t.typed(node, `${base}.${quoteIdent(field)}`, type.kind === 'row' ? (type.fields.find(([f]) => f?.toLowerCase() === field)?.[1] ?? UNKNOWN) : UNKNOWN);
  }),
  h(T.FunctionCallContext, (t, node) => t.call(node)),
  h(T.CastContext, cast),
  h(T.TypeConstructorContext, typeConstructor),
  h(T.ArithmeticBinaryContext, arithmetic),
  h(T.AtTimeZoneContext, (t, node) => {
    const value = t.emit(node.valueExpression());
    const zone = node.timeZoneSpecifier();
    const name = zone instanceof T.TimeZoneStringContext ? stringValue(zone.string()) : null;
    if (name === null) throw new TranslationError('AT TIME ZONE takes a zone name here (a literal such as \'America/New_York\'); an interval or an expression is not supported locally');
    // The same instant (a TIMESTAMP read in the session zone, UTC), its fields read in the named zone.
    return t.typed(node, `CAST(${value} AS TIMESTAMPTZ)`, zoned(name));
  }),
  h(T.SubscriptContext, subscript),
  h(T.ExtractContext, (t, node) => {
    const field = identifierName(node.identifier());
    const fn = EXTRACT[field];
    if (!fn) throw new TranslationError(`EXTRACT(${field.toUpperCase()} FROM …) is not supported locally`);
    return t.typed(node, `${fn}(${t.emit(node.valueExpression())})`, BIGINT);
  }),
  h(T.PredicatedContext, predicated),
  h(T.NumericLiteralContext, numeric),
  h(T.StringLiteralContext, (t, node) => t.typed(node, node.getText(), scalar(`varchar(${[...(stringValue(node) ?? '')].length})`))),
  h(T.BooleanLiteralContext, (t, node) => t.typed(node, node.getText(), BOOLEAN)),
  h(T.CurrentDateContext, (t, node) => t.typed(node, 'current_date', DATE)),
  h(T.CurrentTimestampContext, (t, node) => t.typed(node, 'current_timestamp', TIMESTAMP_TZ)),
  h(T.LocalTimestampContext, (t, node) => t.typed(node, 'CAST(current_timestamp AS TIMESTAMP)', TIMESTAMP)),
  h(T.ArrayConstructorContext, (t, node) => {
    const items = node.expression().map((e) => t.emit(e));
    return t.typed(node, `[${items.join(', ')}]`, arrayOf(unify(node.expression().map((e) => t.typeOf(e)))));
  }),
  h(T.ParenthesizedExpressionContext, (t, node) => t.typed(node, `(${t.emit(node.expression())})`, t.typeOf(node.expression()))),
  h(T.SubstringContext, (t, node) => {
    const args = node.valueExpression().map((e) => t.emit(e));
    return t.typed(node, `athena_substr(${args[0]}, ${args[1]}, ${args[2] ?? 'NULL'})`, VARCHAR);
  }),
  h(T.ListAggContext, (t, node) => {
    const separator = node.string() ? t.emit(node.string() as ParseTree) : "''";
    const order = node.sortItem().length > 0 ? ` ORDER BY ${node.sortItem().map((i) => t.emit(i)).join(', ')}` : '';
    const distinct = node.setQuantifier()?.KW_DISTINCT() ? 'DISTINCT ' : '';
    return t.typed(node, `string_agg(${distinct}${t.emit(node.expression())}, ${separator}${order})`, VARCHAR);
  }),
  h(T.IntervalLiteralContext, (t, node) => t.typed(node, t.children(node), scalar('interval'))),
  h(T.ConcatenationContext, (t, node) => {
    const [l, r] = [node.valueExpression(0) as ParseTree, node.valueExpression(1) as ParseTree];
    const [ls, rs] = [t.emit(l), t.emit(r)];
    const [lt, rt] = [t.typeOf(l), t.typeOf(r)];
    if (lt.kind === 'array' && rt.kind !== 'array' && !isUnknown(rt)) return t.typed(node, `list_append(${ls}, ${rs})`, lt);
    if (rt.kind === 'array' && lt.kind !== 'array' && !isUnknown(lt)) return t.typed(node, `list_prepend(${ls}, ${rs})`, rt);
    if (lt.kind === 'array' || rt.kind === 'array') return t.typed(node, `(${ls} || ${rs})`, lt.kind === 'array' ? lt : rt);
    // Trino concatenates text with text only.
    for (const [a, b] of [[lt, rt], [rt, lt]] as const) {
      if (isText(a) && b.kind === 'scalar' && !isText(b) && !isUnknown(b)) throw new TranslationError(`Cannot apply operator: varchar || ${b.name}; Athena concatenates text only (CAST the ${b.name} to VARCHAR)`);
    }
    return t.typed(node, `(${ls} || ${rs})`, VARCHAR);
  }),
  h(T.SearchedCaseContext, (t, node) => {
    const text = t.children(node);
    return t.typed(node, text, unify([...node.whenClause().map((w) => t.typeOf(w.expression(1))), ...(node._elseExpression ? [t.typeOf(node._elseExpression)] : [])]));
  }),
  h(T.SimpleCaseContext, (t, node) => {
    const text = t.children(node);
    const operand = t.typeOf(node._operand);
    for (const w of node.whenClause()) checkComparison(operand, t.typeOf(w.expression(0)), '=');
    return t.typed(node, text, unify([...node.whenClause().map((w) => t.typeOf(w.expression(1))), ...(node._elseExpression ? [t.typeOf(node._elseExpression)] : [])]));
  }),
  h(T.LambdaContext, () => {
    throw new TranslationError('a lambda is only taken by the array and map functions (transform, filter, reduce, map_filter, …)');
  }),
  h(T.InlineTableContext, (t, node) => {
    const rows = node.expression().map((e) => {
      const text = t.emit(e);
      return text.startsWith('(') || /^ROW\s*\(/i.test(text) ? text.replace(/^ROW\s*/i, '') : `(${text})`;
    });
    // The columns' types, from the first row (a row of several values is a ROW constructor).
    const first = node.expression(0);
    const row = first ? rowValues(first) : [];
    t.recordOutput(node, (row.length > 0 ? row.map((v) => t.typeOf(v)) : [t.typeOf(first)]).map((type, i) => [`_col${i}`, type] as [string, SqlType]));
    return `VALUES ${rows.join(', ')}`;
  }),
  // `TABLE name` is SELECT * FROM name: the name is one of the catalog's, like any table's.
  h(T.TableContext, (t, node) => {
    const table = t.tableRelation(node, identifierParts(node.tableRef()));
    t.recordOutput(node, [...table.columns]);
    return `SELECT * FROM ${table.sql}`;
  }),
  h(T.TableFunctionInvocationContext, () => {
    throw new TranslationError('table functions (TABLE(…)) run only on Athena; the local engine reads the environment\'s tables');
  }),
  h(T.JsonTableContext, () => {
    throw new TranslationError('JSON_TABLE runs on Athena but not in the local engine; unpack with CAST(json_parse(…) AS ARRAY(ROW(…))) and UNNEST');
  }),
  h(T.PatternRecognitionContext, (t, node) => {
    if (node.KW_MATCH_RECOGNIZE()) throw new TranslationError('MATCH_RECOGNIZE runs on Athena but not in the local engine');
    return t.children(node);
  }),
  h(T.IdentifierContext, (_t, node) => quoteIdent(identifierName(node))),
];

/** The values of a ROW constructor (`ROW(a, b)` or `(a, b)`); empty for a single value. */
const rowValues = (node: ParseTree): ParseTree[] => unwrap(node, T.RowConstructorContext)?.expression() ?? [];


