import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetColumns } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { isValidName, tableName } from '../../core/names.js';
import { sqlString } from './duckdb.js';
import { syncDir, syncFile, writeFileDurably } from './durable-fs.js';

/** Where records that fail conversion are written, like Firehose's error output prefix. */
export const ERROR_OUTPUT_DIR = join('errors', 'format-conversion-failed');

/** A record set aside under the error prefix, with why. */
export interface SetAside {
  readonly raw: string;
  readonly reason: string;
}

/** Options of a {@link ParquetDelivery}. */
export interface ParquetDeliveryOptions {
  /** Root folder of the tables. */
  readonly dataDir: string;
  /** Where partial Parquet files are written before their rename (the staging folder: same file system). */
  readonly scratchDir: string;
  /** Prefix of the delivered file names. */
  readonly streamName: string;
}

/**
 * The conversion half of the local delivery stream, as Firehose converts: a segment of JSON
 * lines becomes Snappy Parquet files with the payload table's schema, one per Hive partition
 * taken from each record's own `endpoint` and `date`; records that cannot be converted go
 * under the error prefix with the reason. Files appear whole (written under a temporary
 * name, then renamed).
 */
export class ParquetDelivery {
  public constructor(
    private readonly db: DuckDBConnection,
    private readonly options: ParquetDeliveryOptions,
  ) {}

  /** The segment as a table of the payload columns (and its partition keys). */
  private source(path: string, ignoreErrors = false): string {
    const columns = [...parquetColumns().map((c) => `${c.name}: ${sqlString(c.duckdbType)}`), "endpoint: 'VARCHAR'", "date: 'VARCHAR'"];
    return `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${columns.join(', ')}}, timestampformat = '%Y-%m-%d %H:%M:%S.%g'${ignoreErrors ? ', ignore_errors = true' : ''})`;
  }

  /**
   * Writes one Parquet file per partition of a segment; returns the records delivered. All
   * partitions are written before any appears, so a retry cannot duplicate them; the renames
   * are synced before the caller removes the segment.
   */
  public async deliver(path: string): Promise<number> {
    const groups = (await this.db.runAndReadAll(`SELECT endpoint, date, count(*) AS n FROM ${this.source(path)} GROUP BY ALL`)).getRowObjectsJson() as {
      endpoint: string;
      date: string;
      n: string | number;
    }[];
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '-');
    const written: [string, string][] = [];
    let count = 0;
    try {
      for (const { endpoint, date, n } of groups) {
        if (!isValidName(endpoint) || !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`segment ${path} holds an invalid partition`);
        const dir = join(this.options.dataDir, tableName(endpoint, 'payload'), `endpoint=${endpoint}`, `date=${date}`);
        await mkdir(dir, { recursive: true });
        const id = randomUUID();
        // Written in the scratch folder (same file system, so the rename is atomic), where a
        // crash in the middle of the write leaves nothing the next start does not remove.
        const partial = join(this.options.scratchDir, `${id}.parquet.tmp`);
        await this.db.run(
          `COPY (SELECT ${parquetColumns()
            .map((c) => c.name)
            .join(', ')} FROM ${this.source(path)} WHERE endpoint = ${sqlString(endpoint)} AND date = ${sqlString(date)})
           TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION snappy)`,
        );
        await syncFile(partial);
        written.push([partial, join(dir, `${this.options.streamName}-1-${stamp}-${id}.parquet`)]);
        count += Number(n);
      }
      for (const [partial, target] of written) await rename(partial, target);
      for (const d of new Set(written.map(([, target]) => dirname(target)))) await syncDir(d);
    } finally {
      for (const [partial] of written) await rm(partial, { force: true });
    }
    return count;
  }

  /**
   * The lines of a segment the converter cannot read (it reads the others when told to skip
   * errors), and the lines it can; when they cannot be told apart, every line is unreadable.
   */
  public async unreadableLines(path: string): Promise<{ readonly unreadable: readonly string[]; readonly readable: readonly string[] }> {
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
    const readableIds = new Set(
      (await this.db.runAndReadAll(`SELECT request_id FROM ${this.source(path, true)} WHERE request_id IS NOT NULL`)).getRowObjectsJson().map((r) => String(r.request_id)),
    );
    const idOf = (line: string) => {
      try {
        return String((JSON.parse(line) as { request_id?: unknown }).request_id);
      } catch {
        return undefined;
      }
    };
    const bad = lines.filter((l) => {
      const id = idOf(l);
      return id === undefined || !readableIds.has(id);
    });
    if (bad.length === 0) return { unreadable: lines, readable: [] };
    const badLines = new Set(bad);
    return { unreadable: bad, readable: lines.filter((l) => !badLines.has(l)) };
  }

  /** Writes records under the error prefix, as Firehose does: base64 raw data, the error code and the reason. */
  public async writeErrors(rejected: readonly SetAside[], errorCode = 'DataFormatConversion.InvalidSchema'): Promise<void> {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const dir = join(this.options.dataDir, ERROR_OUTPUT_DIR, `date=${day}`);
    await mkdir(dir, { recursive: true });
    const lines = rejected.map((r) =>
      JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: now,
        errorCode,
        errorMessage: r.reason,
        rawData: Buffer.from(r.raw).toString('base64'),
      }),
    );
    await writeFileDurably(join(dir, `${this.options.streamName}-1-${randomUUID()}.json`), `${lines.join('\n')}\n`);
    log('warn', 'records were written under the error prefix', { records: rejected.length, errorCode, dir });
  }
}
