import Table from 'cli-table3';
import { type ColumnDrift, DRIFT_CELLS } from '../core/monitoring/index.js';
import type { TableHealth } from '../core/health.js';
import type { QueryResult } from '../core/ports.js';

/** Output formats of `inference-tables query`. */
export const OUTPUT_FORMATS = ['table', 'csv', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvCell(value: unknown): string {
  const text = cellText(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Renders a query result for a terminal, a spreadsheet or a program. */
export function formatResult(result: QueryResult, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(result.rows, null, 2)}\n`;
    case 'csv':
      return `${[result.columns.map(csvCell).join(','), ...result.rows.map((r) => result.columns.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
    case 'table': {
      const table = new Table({ head: [...result.columns], style: { head: [], border: [] } });
      for (const row of result.rows) table.push(result.columns.map((c) => cellText(row[c])));
      return `${table.toString()}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`;
    }
  }
}

// Tiny values in exponent notation: a p-value of 1e-60 is not 0.000000.
const num = (v: number | null | undefined, digits = 6) => (v === null || v === undefined ? '' : Math.abs(v) < 1e-4 && v !== 0 ? v.toExponential(3) : v.toFixed(digits));

/** Renders the rows of `inference-tables drift` for a terminal: a column per cell of each drift statistic. */
export function formatDrift(rows: readonly ColumnDrift[]): string {
  const table = new Table({
    head: ['column', 'kind', 'n base', 'n current', ...DRIFT_CELLS.map((c) => c.header), 'p adjusted', 'verdict'],
    style: { head: [], border: [] },
  });
  for (const r of rows) table.push([r.column, r.kind, r.base_count, r.current_count, ...DRIFT_CELLS.map((c) => num(c.value(r), c.digits)), num(r.pvalue_adjusted), r.verdict]);
  return `${table.toString()}\n`;
}

/** Renders the health of every endpoint's tables: one line per endpoint, then each check that is not well. */
export function formatHealth(results: readonly TableHealth[]): string {
  const table = new Table({ head: ['endpoint', 'status', 'what to do'], colWidths: [18, 10, 90], wordWrap: true, style: { head: [], border: [] } });
  for (const h of results) table.push([h.endpoint, h.status, h.status === 'ACTIVE' ? h.checks.filter((c) => c.notice).map((c) => c.message).join(' ') || 'nothing' : h.message]);
  return `${table.toString()}\n`;
}
