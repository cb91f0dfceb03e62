/** Small readers and writers of SQL text shared by the translator's parts. */
import { type ParseTree, type TerminalNode } from 'antlr4ng';
import * as T from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';

/** A double-quoted identifier. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A single-quoted string literal. */
export const quoteString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The text of an identifier as Trino reads it: unquoted names fold to lowercase. */
export function identifierName(ctx: ParseTree): string {
  const text = ctx.getText();
  if (ctx instanceof T.QuotedIdentifierContext) return text.slice(1, -1).replaceAll('""', '"');
  if (ctx instanceof T.BackQuotedIdentifierContext) return text.slice(1, -1);
  return text.toLowerCase();
}

/** A string literal's value, or null when the node is not one. */
export function stringValue(ctx: ParseTree): string | null {
  const text = ctx.getText();
  return /^'.*'$/s.test(text) ? text.slice(1, -1).replaceAll("''", "'") : null;
}

/** A token as DuckDB reads it: back-quoted names become double-quoted. */
export function terminal(node: TerminalNode): string {
  const text = node.getText();
  if (text === '<EOF>') return '';
  if (text.startsWith('`')) return quoteIdent(text.slice(1, -1));
  return text;
}
