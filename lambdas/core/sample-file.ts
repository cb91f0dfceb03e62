import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import type { ColumnType } from './unpacked-schema.js';
import { UserFacingError } from '../shared/errors.js';

/**
 * Samples of columns read from a CSV or Parquet file: the `drift` command's inputs and a
 * baseline file of the refresh workflow. A column is numeric when every value it has is a
 * number; anything else is categorical, compared as text.
 */

/** One column of a sample file. */
export interface SampleColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** Values in file order; null where the cell is empty. */
  readonly values: (number | string | null)[];
}

/** A file could not be read as a sample; the message names the file and the problem. */
export class SampleFileError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SampleFileError';
  }
}

function typed(name: string, raw: unknown[]): SampleColumn {
  const present = raw.filter((v) => v !== null && v !== undefined && v !== '');
  const numeric = present.length > 0 && present.every((v) => typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))));
  const values = raw.map((v) => (v === null || v === undefined || v === '' ? null : numeric ? Number(v) : typeof v === 'boolean' ? String(v) : String(v)));
  return { name, type: numeric ? 'DOUBLE' : 'VARCHAR', values };
}

/** Reads every column of a `.csv` (header row) or `.parquet` file. */
export async function readSampleFile(path: string): Promise<SampleColumn[]> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SampleFileError(`Cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
  }
  let rows: Record<string, unknown>[];
  let names: string[];
  if (/\.parquet$/i.test(path)) {
    try {
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[];
    } catch (error) {
      throw new SampleFileError(`${path} is not a readable Parquet file: ${(error as Error).message}`, { cause: error });
    }
    names = rows[0] ? Object.keys(rows[0]) : [];
  } else if (/\.csv$/i.test(path)) {
    try {
      rows = parse(bytes, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
    } catch (error) {
      throw new SampleFileError(`${path} is not a readable CSV file: ${(error as Error).message}`, { cause: error });
    }
    const header = parse(bytes, { to_line: 1, bom: true }) as string[][];
    names = header[0] ?? [];
  } else {
    throw new SampleFileError(`${path}: expected a .csv or .parquet file`);
  }
  if (rows.length === 0) throw new SampleFileError(`${path} has no rows`);
  return names.map((n) => typed(n, rows.map((r) => r[n])));
}
