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

/** The names of the identifiers under a node, in order (`db.table`, `t.col.field`, a function's name). */
export function identifierParts(node: ParseTree): string[] {
  if (node instanceof T.IdentifierContext) return [identifierName(node)];
  const out: string[] = [];
  for (let i = 0; i < node.getChildCount(); i++) out.push(...identifierParts(node.getChild(i) as ParseTree));
  return out;
}

/** The node of a kind under `node` through single-child nodes (an expression wrapping a lambda or a ROW), or null. */
export function unwrap<N>(node: ParseTree | null | undefined, type: abstract new (...args: never[]) => N): N | null {
  let at: ParseTree | null = node ?? null;
  while (at && !(at instanceof type) && at.getChildCount() === 1) at = at.getChild(0);
  return at instanceof type ? at : null;
}

/** A token as DuckDB reads it: back-quoted names become double-quoted. */
export function terminal(node: TerminalNode): string {
  const text = node.getText();
  if (text === '<EOF>') return '';
  if (text.startsWith('`')) return quoteIdent(text.slice(1, -1));
  return text;
}

/** A fixed offset (`-05:00`) in minutes, or null for a zone name. */
function offsetMinutes(zone: string): number | null {
  const m = /^([+-])(\d\d):?(\d\d)?$/.exec(zone);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : null;
}

/** The wall clock (a TIMESTAMP) of an instant in a zone: a zone name, or a fixed offset DuckDB's zones do not name. */
export function wallClock(instant: string, zone: string): string {
  const minutes = offsetMinutes(zone);
  if (minutes === null) return `(CAST(${instant} AS TIMESTAMPTZ) AT TIME ZONE ${quoteString(zone)})`;
  return `((CAST(${instant} AS TIMESTAMPTZ) AT TIME ZONE 'UTC') + to_minutes(${minutes}))`;
}

/** The instant of a wall clock (a TIMESTAMP) read in a zone. */
export function fromWallClock(wall: string, zone: string): string {
  const minutes = offsetMinutes(zone);
  if (minutes === null) return `(${wall} AT TIME ZONE ${quoteString(zone)})`;
  return `((${wall} - to_minutes(${minutes})) AT TIME ZONE 'UTC')`;
}
