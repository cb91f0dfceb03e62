import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { tableName } from '../../core/names.js';
import { openDuckDb, sqlIdent, sqlString } from './duckdb.js';
import { UserFacingError } from '../../shared/errors.js';

/** A labels file that cannot be used, with the reason. */
export class LabelsFileError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabelsFileError';
  }
}

/** A labels file rewritten as the labels table's Parquet, ready to be stored. */
export interface NormalizedLabels {
  /** Parquet bytes with the columns of the labels table. */
  readonly body: Uint8Array;
  readonly rows: number;
  /** Rows without a client_request_id, left out. */
  readonly skipped: number;
  /** Key of the object in the store: `<endpoint>_labels/uploaded=<date>/<file>.parquet`. */
  readonly key: string;
}

const READERS: Readonly<Record<string, (path: string) => string>> = {
  '.csv': (p) => `read_csv(${sqlString(p)}, header = true, all_varchar = true)`,
  '.tsv': (p) => `read_csv(${sqlString(p)}, header = true, delim = '\t', all_varchar = true)`,
  '.jsonl': (p) => `read_json(${sqlString(p)}, format = 'newline_delimited')`,
  '.ndjson': (p) => `read_json(${sqlString(p)}, format = 'newline_delimited')`,
  '.json': (p) => `read_json(${sqlString(p)}, format = 'auto')`,
  '.parquet': (p) => `read_parquet(${sqlString(p)})`,
};

/**
 * Reads a labels file (CSV, JSON lines or Parquet) and rewrites it with the labels table's
 * columns: `client_request_id` (required), `row_index` (0 when absent, for one-row requests),
 * the label (column `label`, or the one named), `labeled_at` when present (else the upload
 * time orders labels of one key: the latest wins), the upload time and the file's name. When
 * the predictions' type is known, a label that cannot be read as it is refused, with its row.
 * @throws LabelsFileError naming what is missing or what does not fit
 */
export async function normalizeLabelsFile(path: string, endpoint: string, options: { labelColumn?: string; now?: Date; predictionType?: string | null } = {}): Promise<NormalizedLabels> {
  if (!existsSync(path)) throw new LabelsFileError(`${path}: no such file`);
  const extension = extname(path).toLowerCase();
  const reader = READERS[extension];
  if (!reader) throw new LabelsFileError(`${path}: unknown format '${extension}'; use .csv, .tsv, .jsonl, .ndjson, .json or .parquet`);
  const labelColumn = options.labelColumn ?? 'label';
  const now = options.now ?? new Date();
  const { instance, connection } = await openDuckDb();
  const out = join(tmpdir(), `labels-${randomUUID()}.parquet`);
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    try {
      await connection.run(`CREATE TEMP VIEW src AS SELECT * FROM ${reader(path)}`);
    } catch (error) {
      throw new LabelsFileError(`${path}: cannot be read as ${extension.slice(1)}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
    }
    const columns = (await connection.runAndReadAll('SELECT * FROM src LIMIT 0')).columnNames();
    const missing = ['client_request_id', labelColumn].filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new LabelsFileError(`${path} has no ${missing.map((c) => `'${c}'`).join(' or ')} column (it has: ${columns.join(', ') || 'none'}); labels are keyed by client_request_id, plus row_index for batch requests`);
    }
    const rowIndex = columns.includes('row_index') ? `COALESCE(TRY_CAST(row_index AS INTEGER), 0)` : '0';
    const labeledAt = columns.includes('labeled_at') ? 'TRY_CAST(labeled_at AS TIMESTAMP)' : 'CAST(NULL AS TIMESTAMP)';
    const uploadedAt = `TIMESTAMP '${now.toISOString().replace('T', ' ').replace('Z', '')}'`;
    // JSON values keep their JSON text (a number stays 1, not "1.0"); CSV cells are text already.
    const label = `CASE WHEN ${sqlIdent(labelColumn)} IS NULL THEN NULL ELSE trim(CAST(to_json(${sqlIdent(labelColumn)}) AS VARCHAR), '"') END`;
    const counts = await connection.runAndReadAll(`SELECT count(*) FILTER (WHERE client_request_id IS NOT NULL), count(*) FILTER (WHERE client_request_id IS NULL) FROM src`);
    const [rows, skipped] = (counts.getRows()[0] as bigint[]).map(Number) as [number, number];
    if (rows === 0) throw new LabelsFileError(`${path} has no row with a client_request_id`);
    if (options.predictionType) await refuseMistyped(connection, path, endpoint, label, options.predictionType);
    await connection.run(
      `COPY (SELECT CAST(client_request_id AS VARCHAR) AS client_request_id, ${rowIndex} AS row_index, ${label} AS label,
         ${labeledAt} AS labeled_at, ${uploadedAt} AS uploaded_at, ${sqlString(basename(path))} AS source_file
       FROM src WHERE client_request_id IS NOT NULL) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    const stamp = now.toISOString().replace(/[-:.]/g, '').slice(0, 15);
    return {
      body: readFileSync(out),
      rows,
      skipped,
      key: `${tableName(endpoint, 'labels')}/uploaded=${now.toISOString().slice(0, 10)}/labels-${stamp}-${randomUUID().slice(0, 8)}.parquet`,
    };
  } finally {
    rmSync(out, { force: true });
    connection.closeSync();
    instance.closeSync();
  }
}

/** Refuses a file whose labels do not read as the predictions' type (the refresh would leave them out), naming the rows. */
async function refuseMistyped(connection: Awaited<ReturnType<typeof openDuckDb>>['connection'], path: string, endpoint: string, label: string, type: string): Promise<void> {
  const bad = (
    await connection.runAndReadAll(
      `SELECT n, l FROM (SELECT row_number() OVER () AS n, ${label} AS l, client_request_id FROM src) WHERE client_request_id IS NOT NULL AND l IS NOT NULL AND TRY_CAST(l AS ${type}) IS NULL ORDER BY n`,
    )
  ).getRows() as [bigint, string][];
  if (bad.length === 0) return;
  const shown = bad
    .slice(0, 5)
    .map(([n, l]) => `row ${n} (${JSON.stringify(l)})`)
    .join(', ');
  throw new LabelsFileError(
    `${path}: ${bad.length} label${bad.length === 1 ? '' : 's'} cannot be read as ${type}, the type of ${endpoint}'s predictions: ${shown}${bad.length > 5 ? ', …' : ''} (rows counted from the first data row). Nothing was uploaded; fix them and upload the file again.`,
  );
}
