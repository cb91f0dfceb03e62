/**
 * Parsing Athena SQL with Trino's own grammar (`dt-sql-parser`'s TrinoSQL, an ANTLR build of
 * it). Athena's Hive DDL that Trino's grammar lacks (`SHOW PARTITIONS`) is read here first.
 */
// The Trino parser alone: the package's index loads every dialect's grammar (half a second).
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino/index.js';
import type { ParseTree } from 'antlr4ng';
import { SingleStatementContext, type StatementContext } from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';

/** SQL Athena would not parse, with where: `line:column` of the first problem, 1-based. */
export class SqlSyntaxError extends Error {
  public constructor(
    message: string,
    public readonly line: number,
    public readonly column: number,
  ) {
    super(`line ${line}:${column}: ${message}`);
    this.name = 'SqlSyntaxError';
  }
}

let parser: TrinoSQL | undefined;

/** The parser, built once: its first parse pays the grammar's warm-up (about 150 ms). */
function trino(): TrinoSQL {
  parser ??= new TrinoSQL();
  return parser;
}

/** Pays the parser's warm-up now (a server or console calls this at start). */
export function warmUpParser(): void {
  // The forms users type most, so their prediction paths are built before the first query.
  parseStatement(`WITH w AS (SELECT a, b['k'] AS c FROM t WHERE "date" = '2026-01-01' AND s >= 400) SELECT c, count(*) AS n, avg(CASE WHEN s >= 400 THEN 1e0 ELSE 0e0 END), approx_percentile(e, 0.99)
    FROM w CROSS JOIN UNNEST(CAST(json_extract(r, '$.x') AS ARRAY(ROW(y DOUBLE)))) WITH ORDINALITY AS u(y, i) WHERE date_format(ts, '%H') > '1' GROUP BY 1 ORDER BY 2 DESC LIMIT 10`);
}

/** A statement Athena runs as Hive DDL, read before the Trino grammar (which has no such form). */
export type HiveStatement =
  | { readonly kind: 'show-partitions'; readonly table: readonly string[] }
  | { readonly kind: 'show-tables'; readonly database: string | null; readonly pattern: string }
  | { readonly kind: 'show-databases'; readonly pattern: string | null };

const NAME = String.raw`(?:[A-Za-z_][A-Za-z0-9_]*|"[^"]+"|\`[^\`]+\`)`;
const SHOW_PARTITIONS = new RegExp(String.raw`^\s*SHOW\s+PARTITIONS\s+(${NAME}(?:\s*\.\s*${NAME})*)\s*;?\s*$`, 'i');
// Hive's forms: a bare pattern after SHOW TABLES, and SHOW DATABASES (Trino says SCHEMAS, with LIKE).
const SHOW_TABLES = new RegExp(String.raw`^\s*SHOW\s+TABLES(?:\s+(?:IN|FROM)\s+(${NAME}))?\s+'((?:[^']|'')*)'\s*;?\s*$`, 'i');
const SHOW_DATABASES = /^\s*SHOW\s+(?:DATABASES|SCHEMAS)(?:\s+(?:LIKE\s+)?'((?:[^']|'')*)')?\s*;?\s*$/i;
const unquote = (name: string): string => (/^["`]/.test(name) ? name.slice(1, -1) : name.toLowerCase());

/** Reads Athena's Hive-only statements; null for anything else. */
export function parseHiveStatement(sql: string): HiveStatement | null {
  const partitions = SHOW_PARTITIONS.exec(sql);
  if (partitions) return { kind: 'show-partitions', table: (partitions[1] as string).split('.').map((p) => unquote(p.trim())) };
  const tables = SHOW_TABLES.exec(sql);
  if (tables) return { kind: 'show-tables', database: tables[1] ? unquote(tables[1]) : null, pattern: (tables[2] as string).replaceAll("''", "'") };
  const databases = SHOW_DATABASES.exec(sql);
  if (databases) return { kind: 'show-databases', pattern: databases[1]?.replaceAll("''", "'") ?? null };
  return null;
}

/**
 * Parses one statement (a trailing `;` allowed).
 * @throws SqlSyntaxError at the first error, or when the text holds more or less than one statement
 */
export function parseStatement(sql: string): StatementContext {
  const errors: { startLine: number; startColumn: number; message: string }[] = [];
  const tree = trino().parse(sql, (e) => errors.push(e));
  const first = errors[0];
  if (first) throw new SqlSyntaxError(first.message, first.startLine, first.startColumn);
  const statements: SingleStatementContext[] = [];
  collect(tree, statements);
  if (statements.length !== 1) throw new SqlSyntaxError(statements.length === 0 ? 'no statement' : 'one statement at a time', 1, 1);
  return (statements[0] as SingleStatementContext).statement();
}

function collect(node: ParseTree, out: SingleStatementContext[]): void {
  if (node instanceof SingleStatementContext) {
    out.push(node);
    return;
  }
  for (let i = 0; i < node.getChildCount(); i++) collect(node.getChild(i) as ParseTree, out);
}
