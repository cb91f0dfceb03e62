import { parse as parseCsv } from 'csv-parse/sync';
import { InvalidRequestError } from './errors.js';
import type { ScoringRequest } from './protocol.js';

/**
 * The rows of a scoring request, whatever its input format: named columns (data frames,
 * columnar `inputs`, row `instances` of objects, CSV with a header) or an unnamed tensor.
 */
export interface Frame {
  /** Column names, or null for a tensor without names. */
  readonly columns: readonly string[] | null;
  /** One array of cell values per row. */
  readonly rows: readonly (readonly unknown[])[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromRecords(records: readonly Record<string, unknown>[]): Frame {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        columns.push(k);
      }
    }
  }
  return { columns, rows: records.map((r) => columns.map((c) => (c in r ? r[c] : null))) };
}

function fromColumns(obj: Record<string, unknown>): Frame {
  const columns = Object.keys(obj);
  const cols = columns.map((c) => (Array.isArray(obj[c]) ? (obj[c] as unknown[]) : [obj[c]]));
  const n = cols[0]?.length ?? 0;
  return { columns, rows: Array.from({ length: n }, (_, i) => cols.map((col) => col[i])) };
}

function fromTensor(value: unknown): Frame {
  if (!Array.isArray(value)) return { columns: null, rows: [[value]] };
  if (value.length > 0 && value.every(isObject)) return fromRecords(value as Record<string, unknown>[]);
  return { columns: null, rows: value.map((row) => (Array.isArray(row) ? row : [row])) };
}

/**
 * Turns a protocol-valid standard or CSV request into a frame.
 * @throws InvalidRequestError for CSV that cannot be parsed
 */
export function toFrame(request: ScoringRequest): Frame {
  if (request.kind === 'csv') {
    let table: string[][];
    try {
      table = parseCsv(request.forwardBody, { skip_empty_lines: true, relax_column_count: false }) as string[][];
    } catch (error) {
      throw new InvalidRequestError(
        `Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV-formatted Pandas DataFrame produced using the \`pandas.DataFrame.to_csv()\` method. Error: '${(error as Error).message}'`,
        'BAD_REQUEST',
        { cause: error },
      );
    }
    const [header = [], ...body] = table;
    return { columns: header, rows: body.map((row) => row.map((cell) => (cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell))) };
  }
  if (request.kind === 'llm') return { columns: null, rows: [] };
  const value = request.json[request.format];
  switch (request.format) {
    case 'dataframe_split': {
      // Column names are strings or integers (checked by the protocol); a frame names them as text.
      const split = value as { columns?: (string | number)[]; data: unknown[] };
      const rows = split.data.map((row) => (Array.isArray(row) ? row : [row]));
      return { columns: split.columns?.map(String) ?? rows[0]?.map((_, i) => String(i)) ?? [], rows };
    }
    case 'dataframe_records':
      return fromRecords(value as Record<string, unknown>[]);
    case 'inputs':
      return isObject(value) ? fromColumns(value) : fromTensor(value);
    case 'instances':
      return fromTensor(value);
  }
}
