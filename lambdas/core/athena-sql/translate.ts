/**
 * Athena SQL to DuckDB, from Trino's syntax tree. Text is rebuilt node by node; the nodes whose
 * meaning differs between the engines are rewritten (functions, casts, integer division,
 * UNNEST, subscripts, time zones, sampling, names), and what has no faithful DuckDB form is
 * refused by name. Types are followed where they decide the form (a map or an array, a DATE).
 */
import { type ParseTree, TerminalNode } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { ATHENA_ONLY, type Call, FUNCTIONS, TranslationError, duckName, unknownOffset } from './functions.js';
import { parseHiveStatement, parseStatement } from './parse.js';
import { BIGINT, OFFSET_UNKNOWN, type SqlType, TIMESTAMP, UNKNOWN, VARCHAR, isText, scalar, trinoTypeName, zoneOf } from './types.js';
import { LAMBDA_FUNCTIONS, lambdaCall } from './lambdas.js';
import { HANDLERS } from './handlers.js';
import { identifierName, identifierParts, quoteIdent, quoteString, stringValue, terminal, wallClock } from './sql-text.js';

/** The tables a statement may name, with their columns' types. */
export interface Catalog {
  /** The environment's database: a table may be qualified by it (and by `awsdatacatalog`). */
  readonly database: string;
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, SqlType>>;
  /** Tables with Athena's file pseudo-columns (`"$path"`): their name when a query reads one. */
  readonly pseudoColumns?: (table: string) => string | null;
}

/** What a statement asks: a query to run, or a description of the catalog. */
export type Translation =
  | { readonly kind: 'query'; readonly sql: string }
  | { readonly kind: 'show-tables'; readonly like: string | null }
  | { readonly kind: 'show-columns'; readonly table: string; readonly describe: boolean }
  | { readonly kind: 'show-create-table'; readonly table: string }
  | { readonly kind: 'show-partitions'; readonly table: string }
  | { readonly kind: 'show-databases'; readonly like: string | null };

interface Relation {
  readonly names: readonly string[];
  readonly columns: ReadonlyMap<string, SqlType>;
  /** Columns a `*` leaves out (the pseudo-column `"$path"`, as Athena's `*` does). */
  readonly hidden?: readonly string[];
}
/** A table as a FROM clause reads it. */
export interface TableRelation {
  readonly sql: string;
  readonly name: string;
  readonly columns: ReadonlyMap<string, SqlType>;
  readonly hidden: readonly string[];
}
interface Scope {
  relations: Relation[];
  /** The SELECT aliases of this query, which its other clauses may not name. */
  aliases: ReadonlySet<string>;
}

/** Athena's pseudo-columns of a table's files, which `*` leaves out. */
const PSEUDO_COLUMNS: readonly (readonly [string, SqlType])[] = [['$path', VARCHAR], ['$file_size', BIGINT], ['$file_modified_time', scalar('timestamp with time zone')]];
/** Functions of a timestamp's fields: a zoned value is read as its wall clock in its zone. */
const WALL_CLOCK = new Set([
  'year', 'month', 'day', 'day_of_month', 'hour', 'minute', 'second', 'millisecond', 'quarter', 'week', 'week_of_year', 'year_of_week', 'yow', 'day_of_week', 'dow',
  'day_of_year', 'doy', 'date', 'date_format', 'format_datetime', 'to_iso8601', 'last_day_of_month', 'date_trunc', 'date_add',
]);

/** The information_schema tables of the environment's database, written from the catalog. */
const INFORMATION_SCHEMA = new Set(['columns', 'tables', 'schemata']);

/** An information_schema table as Athena shows it: the environment's database, Trino's type names. */
function informationSchema(catalog: Catalog, table: string): { sql: string; columns: string[] } {
  const db = quoteString(catalog.database);
  const values = (rows: string[][], columns: string[]) =>
    rows.length === 0 ? `SELECT ${columns.map((c) => `CAST(NULL AS VARCHAR) AS ${quoteIdent(c)}`).join(', ')} WHERE false` : `SELECT * FROM (VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS v(${columns.map(quoteIdent).join(', ')})`;
  if (table === 'schemata') return { sql: values([[`'awsdatacatalog'`, db]], ['catalog_name', 'schema_name']), columns: ['catalog_name', 'schema_name'] };
  const names = [...catalog.tables.keys()].sort();
  if (table === 'tables') {
    const columns = ['table_catalog', 'table_schema', 'table_name', 'table_type'];
    return { sql: values(names.map((n) => [`'awsdatacatalog'`, db, quoteString(n), `'BASE TABLE'`]), columns), columns };
  }
  const columns = ['table_catalog', 'table_schema', 'table_name', 'column_name', 'ordinal_position', 'is_nullable', 'data_type'];
  const rows = names.flatMap((n) => [...(catalog.tables.get(n) ?? new Map<string, SqlType>())].map(([c, t], i) => [`'awsdatacatalog'`, db, quoteString(n), quoteString(c), String(i + 1), `'YES'`, quoteString(trinoTypeName(t))]));
  return { sql: values(rows, columns), columns };
}

/** Translates one Athena statement for the local engine. */
export function translateAthenaSql(sql: string, catalog: Catalog): Translation {
  const hive = parseHiveStatement(sql);
  if (hive?.kind === 'show-partitions') return { kind: 'show-partitions', table: new Translator(catalog).tableName(hive.table) };
  if (hive?.kind === 'show-tables') {
    if (hive.database !== null) new Translator(catalog).checkDatabase([hive.database]);
    return { kind: 'show-tables', like: hive.pattern };
  }
  if (hive?.kind === 'show-databases') return { kind: 'show-databases', like: hive.pattern };
  return new Translator(catalog).statement(parseStatement(sql));
}


class Translator {
  private readonly types = new Map<ParseTree, SqlType>();
  private readonly scopes: Scope[] = [];
  private readonly ctes = new Map<string, ReadonlyMap<string, SqlType>>();
  /** Lambda parameters in scope, by name, with their DuckDB text and type. */
  public readonly lambdas: Map<string, { sql: string; type: SqlType }>[] = [];
  private readonly outputs = new Map<ParseTree, [string, SqlType][]>();
  private readsPseudo = false;
  /** Depth of `try(…)` around the node being written: inside, failures are NULL (DuckDB's TRY takes no error()). */
  public inTry = 0;

  public constructor(private readonly catalog: Catalog) {}

  public statement(ctx: T.StatementContext): Translation {
    if (ctx instanceof T.StatementDefaultContext) {
      this.readsPseudo = quotedNames(ctx).some((n) => PSEUDO_COLUMNS.some(([c]) => c === n));
      const sql = this.emit(ctx);
      // Results are keyed by column name: two columns of one name would show one value twice.
      const root = findFirst(ctx, T.QueryStatementContext);
      const names = root ? this.outputColumns(root.queryNoWith()).map(([n]) => n) : [];
      const twice = names.find((n, i) => names.indexOf(n) !== i);
      if (twice !== undefined) throw new TranslationError(`the result has two columns named ${twice}; name one of them apart (AS …)`);
      return { kind: 'query', sql };
    }
    if (ctx instanceof T.ShowTablesContext) {
      const like = ctx._pattern ? stringValue(ctx._pattern) : null;
      const schema = ctx.schemaRef();
      if (schema) this.checkDatabase(schema.getText().split('.').map((p) => p.replace(/^["`]|["`]$/g, '').toLowerCase()));
      return { kind: 'show-tables', like };
    }
    if (ctx instanceof T.ShowColumnsContext) {
      return { kind: 'show-columns', table: this.tableName(identifierParts(ctx.tableOrViewName())), describe: ctx.KW_DESCRIBE() !== null || ctx.KW_DESC() !== null };
    }
    if (ctx instanceof T.ShowCreateTableContext) return { kind: 'show-create-table', table: this.tableName(identifierParts(ctx.tableRef())) };
    if (ctx instanceof T.ShowSchemasContext) return { kind: 'show-databases', like: ctx._pattern ? stringValue(ctx._pattern) : null };
    const verb = ctx.start?.text?.toUpperCase() ?? 'this statement';
    throw new TranslationError(`${verb} statements run only on Athena; the local engine answers queries (SELECT, WITH, VALUES) and SHOW/DESCRIBE`);
  }

  public checkDatabase(qualifier: readonly string[]): void {
    const [catalogName, database] = qualifier.length === 2 ? qualifier : [null, qualifier[0]];
    if (catalogName !== null && catalogName !== 'awsdatacatalog') throw new TranslationError(`catalog ${catalogName} does not exist here; Athena's catalog is awsdatacatalog`);
    if (database !== this.catalog.database) throw new TranslationError(`database ${database} does not exist here: this environment's tables are in ${this.catalog.database}`);
  }

  /** A table name, checked against the environment's database and tables. */
  public tableName(parts: readonly string[]): string {
    const name = (parts.at(-1) ?? '').toLowerCase();
    if (parts.length > 1 && parts.at(-2)?.toLowerCase() === 'information_schema') {
      if (!INFORMATION_SCHEMA.has(name)) throw new TranslationError(`information_schema.${name} is not kept locally; the local engine has ${[...INFORMATION_SCHEMA].join(', ')}`);
      return `information_schema.${name}`;
    }
    if (parts.length > 1) this.checkDatabase(parts.slice(0, -1).map((p) => p.toLowerCase()));
    if (!this.catalog.tables.has(name) && !this.ctes.has(name)) {
      throw new TranslationError(`table ${this.catalog.database}.${name} does not exist; the tables are ${[...this.catalog.tables.keys()].sort().join(', ')}`);
    }
    return name;
  }

  /** DuckDB text of a node; records the type of expressions. */
  public emit(node: ParseTree): string {
    if (node instanceof TerminalNode) return terminal(node);
    const handler = HANDLERS.find((h) => node instanceof h.type);
    if (handler) return handler.write(this, node as never);
    return this.children(node);
  }

  /** The node's children, each emitted, joined by spaces. */
  public children(node: ParseTree, skip: (child: ParseTree) => boolean = () => false): string {
    let out = '';
    for (let i = 0; i < node.getChildCount(); i++) {
      const child = node.getChild(i) as ParseTree;
      if (skip(child)) continue;
      const text = this.emit(child);
      if (text === '') continue;
      out += out === '' || /^[,.)\]]/.test(text) || /[(.[]$/.test(out) ? text : ` ${text}`;
    }
    // A node with one child has that child's type.
    if (node.getChildCount() === 1 && !this.types.has(node)) this.types.set(node, this.typeOf(node.getChild(0) as ParseTree));
    return out;
  }

  public typeOf(node: ParseTree | null | undefined): SqlType {
    return (node && this.types.get(node)) ?? UNKNOWN;
  }

  public typed(node: ParseTree, sql: string, type: SqlType): string {
    this.types.set(node, type);
    return sql;
  }

  // --- names ---------------------------------------------------------------

  public column(node: ParseTree, parts: readonly string[]): string {
    const [head, ...rest] = parts as [string, ...string[]];
    for (let l = this.lambdas.length - 1; l >= 0; l--) {
      const param = this.lambdas[l]?.get(head);
      if (param) return this.typed(node, fields(param.sql, param.type, rest).sql, fields(param.sql, param.type, rest).type);
    }
    for (let s = this.scopes.length - 1; s >= 0; s--) {
      const relations = (this.scopes[s] as Scope).relations;
      if (rest.length > 0) {
        const byName = relations.find((r) => r.names.includes(head));
        if (byName) {
          const [col, ...more] = rest as [string, ...string[]];
          const type = byName.columns.get(col) ?? UNKNOWN;
          const f = fields(`${quoteIdent(head)}.${quoteIdent(col)}`, type, more);
          return this.typed(node, f.sql, f.type);
        }
      }
      const owner = relations.find((r) => r.columns.has(head));
      if (owner) {
        const f = fields(quoteIdent(head), owner.columns.get(head) ?? UNKNOWN, rest);
        return this.typed(node, f.sql, f.type);
      }
    }
    const scope = this.scopes.at(-1);
    if (scope && this.lambdas.length === 0) {
      const known = scope.relations.length > 0 && scope.relations.every((r) => r.columns.size > 0);
      if (rest.length === 0 && scope.relations.some((r) => r.names.includes(head))) {
        throw new TranslationError(`Column '${head}' cannot be resolved: ${head} names a table here; name one of its columns (${head}.column)`);
      }
      if (known && scope.aliases.has(head)) {
        throw new TranslationError(`Column '${head}' cannot be resolved: Athena reads no SELECT alias in WHERE, GROUP BY, HAVING or another select item; repeat the expression, or GROUP BY its position`);
      }
      if (known) throw new TranslationError(`Column '${head}' cannot be resolved`);
    }
    const f = fields(quoteIdent(head), UNKNOWN, rest);
    return this.typed(node, f.sql, f.type);
  }

  public pushScope(): Scope {
    const scope: Scope = { relations: [], aliases: new Set() };
    this.scopes.push(scope);
    return scope;
  }

  public popScope(): void {
    this.scopes.pop();
  }

  public addRelation(relation: Relation): void {
    this.scopes.at(-1)?.relations.push(relation);
  }

  public setAliases(aliases: readonly string[]): void {
    const scope = this.scopes.at(-1);
    if (scope) scope.aliases = new Set(aliases);
  }

  /** The columns a `*` (or `name.*`) reads in the current SELECT, with their types. */
  public starColumns(qualifier: string | null): [string, SqlType][] {
    const relations = this.scopes.at(-1)?.relations ?? [];
    return relations.filter((r) => qualifier === null || r.names.includes(qualifier)).flatMap((r) => [...r.columns]);
  }

  /** The columns a `*` (or `name.*`) leaves out in the current SELECT. */
  public hiddenColumns(qualifier: string | null): string[] {
    const relations = this.scopes.at(-1)?.relations ?? [];
    return [...new Set(relations.filter((r) => qualifier === null || r.names.includes(qualifier)).flatMap((r) => r.hidden ?? []))];
  }

  /** A table of the FROM clause: its DuckDB text, its name and columns, and the columns `*` leaves out. */
  public tableRelation(node: ParseTree, parts: readonly string[]): TableRelation {
    const name = this.tableName(parts);
    this.types.set(node, UNKNOWN);
    if (name.startsWith('information_schema.')) {
      const table = name.slice('information_schema.'.length);
      const view = informationSchema(this.catalog, table);
      return { sql: `(${view.sql})`, name: table, columns: new Map(view.columns.map((c) => [c, c === 'ordinal_position' ? BIGINT : VARCHAR])), hidden: [] };
    }
    const columns = this.ctes.get(name) ?? this.catalog.tables.get(name) ?? new Map();
    const stored = !this.ctes.has(name);
    const pseudo = this.readsPseudo && stored ? this.catalog.pseudoColumns?.(name) : null;
    if (this.readsPseudo && stored && !pseudo) {
      throw new TranslationError(`the table ${name} has no "$path" locally: only the payload tables are read from their files`);
    }
    if (!pseudo) return { sql: quoteIdent(name), name, columns, hidden: [] };
    return { sql: quoteIdent(pseudo), name, columns: new Map([...columns, ...PSEUDO_COLUMNS]), hidden: PSEUDO_COLUMNS.map(([c]) => c) };
  }

  public defineCte(name: string, columns: ReadonlyMap<string, SqlType>): void {
    this.ctes.set(name, columns);
  }

  public recordOutput(node: ParseTree, columns: [string, SqlType][]): void {
    this.outputs.set(node, columns);
  }

  /** The columns a query yields (its first SELECT's), in order; names may repeat. */
  public outputColumns(node: ParseTree): [string, SqlType][] {
    const direct = this.outputs.get(node);
    if (direct) return direct;
    for (let i = 0; i < node.getChildCount(); i++) {
      const found = this.outputColumns(node.getChild(i) as ParseTree);
      if (found.length > 0) return found;
    }
    return [];
  }

  /** The columns a query yields, by name. */
  public outputOf(node: ParseTree): Map<string, SqlType> {
    return new Map(this.outputColumns(node));
  }

  // --- calls ---------------------------------------------------------------

  public call(node: T.FunctionCallContext): string {
    const name = identifierParts(node.functionName()).join('.');
    if (LAMBDA_FUNCTIONS.has(name)) return lambdaCall(this, node, name);
    if (name === 'try') {
      this.inTry++;
      try {
        const inner = node.expression(0);
        const sql = inner ? this.emit(inner) : 'NULL';
        return this.typed(node, `try(${sql})`, this.typeOf(inner));
      } finally {
        this.inTry--;
      }
    }
    const rule = FUNCTIONS[name];
    if (!rule) {
      throw new TranslationError(
        ATHENA_ONLY.has(name)
          ? `function ${name} runs on Athena but not in the local engine; run this query with --env`
          : `function ${name} is not an Athena function (see "Athena SQL locally" in the README for the ones the local engine runs)`,
      );
    }
    const expressions = node.expression();
    if (name === 'array_sort' && expressions.length === 2) {
      throw new TranslationError('array_sort with a comparator runs on Athena but not in the local engine; use array_sort(x), reverse(array_sort(x)), or ORDER BY');
    }
    if (rule.arity && !rule.arity.includes(expressions.length)) {
      throw new TranslationError(`${name} takes ${rule.arity.join(' or ')} arguments, not ${expressions.length}`);
    }
    const args = expressions.map((e) => this.emit(e));
    const types = expressions.map((e) => this.typeOf(e));
    // A zoned value's fields are its wall clock in its zone.
    const zones = types.map(zoneOf);
    if (WALL_CLOCK.has(name)) {
      zones.forEach((zone, i) => {
        if (zone === null || zone === 'UTC') return;
        if (zone === OFFSET_UNKNOWN) throw new TranslationError(unknownOffset(name));
        args[i] = wallClock(args[i] as string, zone);
        types[i] = TIMESTAMP;
      });
    }
    const literals = expressions.map((e) => (isText(this.typeOf(e)) ? stringValue(e) : null));
    const distinct = node.setQuantifier()?.KW_DISTINCT() != null;
    const order = node.sortItem().length > 0 ? ` ORDER BY ${node.sortItem().map((s) => this.emit(s)).join(', ')}` : '';
    const filter = node.filter() ? ` ${this.emit(node.filter() as ParseTree)}` : '';
    const over = node.over() ? ` ${this.emit(node.over() as ParseTree)}` : '';
    const nulls = node.nullTreatment() ? ` ${this.emit(node.nullTreatment() as ParseTree)}` : '';
    const after = `${nulls}${filter}${over}`;
    const c: Call = { name, args, types, literals, tail: order, distinct, after, zones };
    const star = node.ASTERISK() ? '*' : '';
    const returns = typeof rule.returns === 'function' ? rule.returns(types, c) : (rule.returns ?? UNKNOWN);
    if (typeof rule.to === 'function') {
      // An aggregate written as a whole places its FILTER and OVER itself.
      return this.typed(node, rule.aggregate ? rule.to(c) : `${rule.to(c)}${after}`, returns);
    }
    return this.typed(node, `${duckName(name, rule)}(${distinct ? 'DISTINCT ' : ''}${star}${args.join(', ')}${order})${after}`, returns);
  }
}

/** The names of the double-quoted identifiers under a node. */
function quotedNames(node: ParseTree): string[] {
  if (node instanceof T.QuotedIdentifierContext) return [identifierName(node)];
  const out: string[] = [];
  for (let i = 0; i < node.getChildCount(); i++) out.push(...quotedNames(node.getChild(i) as ParseTree));
  return out;
}

/** The first node of a kind under `node`, depth first. */
function findFirst<N>(node: ParseTree, type: abstract new (...args: never[]) => N): N | null {
  if (node instanceof type) return node;
  for (let i = 0; i < node.getChildCount(); i++) {
    const found = findFirst(node.getChild(i) as ParseTree, type);
    if (found) return found;
  }
  return null;
}

/** Field access into a row-typed value. */
function fields(base: string, type: SqlType, names: readonly string[]): { sql: string; type: SqlType } {
  let sql = base;
  let t = type;
  for (const n of names) {
    sql = `${sql}.${quoteIdent(n)}`;
    t = t.kind === 'row' ? (t.fields.find(([f]) => f?.toLowerCase() === n)?.[1] ?? UNKNOWN) : UNKNOWN;
  }
  return { sql, type: t };
}


/** How one kind of node is written for DuckDB. */
export interface Handler {
  readonly type: abstract new (...args: never[]) => object;
  readonly write: (t: Translator, node: never) => string;
}
export type { Translator };
