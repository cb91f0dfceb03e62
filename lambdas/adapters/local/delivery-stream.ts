import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type CaptureRecord, conversionProblem, parquetColumns } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { isValidName, tableName } from '../../core/names.js';
import type { CaptureSink, CaptureStatus } from '../../core/ports.js';
import { openDuckDb, sqlString } from './duckdb.js';

/** Options of the local delivery stream; the same knobs as a Firehose delivery stream. */
export interface LocalDeliveryStreamOptions {
  /** Root folder of the tables: `<dataDir>/<endpoint>_payload/endpoint=…/date=…/*.parquet`. */
  readonly dataDir: string;
  /** Deliver at least this often (Firehose `IntervalInSeconds`); 0 delivers only on size or flush. */
  readonly bufferIntervalMs: number;
  /** Deliver when this many bytes are buffered (Firehose `SizeInMBs`). */
  readonly bufferSizeBytes: number;
  /** Prefix of the delivered file names. */
  readonly streamName?: string;
}

/** Where records that fail conversion are written, like Firehose's error output prefix. */
export const ERROR_OUTPUT_DIR = join('errors', 'format-conversion-failed');
/** Buffered records not yet delivered, one newline-delimited JSON segment file at a time. */
export const STAGING_DIR = '.staging';

interface Segment {
  readonly path: string;
  readonly handle: FileHandle;
  bytes: number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * A delivery stream with Firehose's semantics on one machine. Accepted records are appended
 * to a staging segment (concurrent puts share one write), and delivered by size or interval
 * as Snappy Parquet files with the payload table's schema, in Hive partitions taken from
 * each record's own `endpoint` and `date`. Records that do not fit the columns are written
 * under `errors/format-conversion-failed/` with the reason. Parquet files appear whole
 * (written under a temporary name, then renamed); a segment left by a stopped process is
 * delivered when the stream opens again.
 */
export class LocalDeliveryStream implements CaptureSink {
  private segment: Segment | undefined;
  private readonly closedSegments: string[] = [];
  private pendingText: string[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Why the last delivery failed, until one succeeds. */
  private lastFailure: string | undefined;
  private readonly streamName: string;
  private readonly staging: string;
  private closed = false;
  /** Records delivered to Parquet since start. */
  public delivered = 0;
  /** Records written under the error prefix since start. */
  public failedConversion = 0;

  private constructor(
    private readonly options: LocalDeliveryStreamOptions,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    leftovers: string[],
  ) {
    this.streamName = options.streamName ?? 'inference-tables';
    this.staging = join(options.dataDir, STAGING_DIR);
    this.closedSegments.push(...leftovers);
    if (options.bufferIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), options.bufferIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens a stream writing under `options.dataDir`; segments left by an earlier process are delivered first. */
  public static async open(options: LocalDeliveryStreamOptions): Promise<LocalDeliveryStream> {
    const staging = join(options.dataDir, STAGING_DIR);
    await mkdir(staging, { recursive: true });
    const leftovers = (await readdir(staging)).filter((f) => f.endsWith('.ndjson')).sort().map((f) => join(staging, f));
    const { instance, connection } = await openDuckDb();
    const stream = new LocalDeliveryStream(options, instance, connection, leftovers);
    if (leftovers.length > 0) {
      log('info', 'delivering records buffered before the last stop', { segments: leftovers.length });
      await stream.flush();
    }
    return stream;
  }

  /**
   * Accepts records: resolves once they are written to the staging segment. Records that do
   * not fit the payload columns go to the error prefix instead.
   */
  public async put(records: readonly CaptureRecord[]): Promise<void> {
    if (this.closed) throw new Error('The local delivery stream is closed.');
    const rejected: { raw: string; reason: string }[] = [];
    let text = '';
    for (const record of records) {
      const line = JSON.stringify(record);
      const problem = conversionProblem(record) ?? (isValidName(record.endpoint) ? null : `endpoint: invalid name '${String(record.endpoint).slice(0, 64)}'`);
      if (problem) rejected.push({ raw: line, reason: problem });
      else text += `${line}\n`;
    }
    if (rejected.length > 0) await this.writeErrors(rejected);
    if (text) await this.append(text);
  }

  public status(endpoint: string): CaptureStatus {
    if (this.lastFailure) return { status: 'FAILED', message: `Last delivery failed and will be retried: ${this.lastFailure}` };
    return { status: 'ACTIVE', message: `Delivering to ${join(this.options.dataDir, tableName(endpoint, 'payload'))} every ${this.options.bufferIntervalMs / 1000} s.` };
  }

  /** Delivers everything accepted so far. Deliveries never overlap. */
  public flush(): Promise<void> {
    return this.exclusive(async () => {
      await this.rotate();
      await this.deliverClosed();
    });
  }

  /** Delivers what is buffered and releases the database. */
  public async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    this.db.closeSync();
    this.instance.closeSync();
  }

  /** Runs one segment operation at a time: writes, rotation and delivery never interleave. */
  private exclusive(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Group commit: puts arriving while a write is in progress share the next write. */
  private append(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingText.push(text);
      this.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pendingText.length > 0) {
      const text = this.pendingText.join('');
      const waiters = this.waiters;
      this.pendingText = [];
      this.waiters = [];
      let full = false;
      try {
        await this.exclusive(async () => {
          this.segment ??= await this.newSegment();
          await this.segment.handle.write(text);
          this.segment.bytes += text.length;
          full = this.segment.bytes >= this.options.bufferSizeBytes;
        });
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
      if (full) void this.flush().catch(() => undefined);
    }
    this.writing = false;
  }

  private async newSegment(): Promise<Segment> {
    const path = join(this.staging, `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.ndjson`);
    return { path, handle: await open(path, 'a'), bytes: 0 };
  }

  private async rotate(): Promise<void> {
    const segment = this.segment;
    if (!segment) return;
    this.segment = undefined;
    await segment.handle.close();
    if (segment.bytes === 0) await rm(segment.path, { force: true });
    else this.closedSegments.push(segment.path);
  }

  private async deliverClosed(): Promise<void> {
    while (this.closedSegments.length > 0) {
      const path = this.closedSegments[0] as string;
      try {
        this.delivered += await this.deliverSegment(path);
        this.lastFailure = undefined;
        this.closedSegments.shift();
        await rm(path, { force: true });
      } catch (error) {
        // Firehose keeps undeliverable data and retries; so does this stream, at the next flush.
        this.lastFailure = (error as Error).message;
        log('error', 'local delivery failed; records kept for the next attempt', { segment: path, error });
        throw error;
      }
    }
  }

  private source(path: string): string {
    const columns = [...parquetColumns().map((c) => `${c.name}: ${sqlString(c.duckdbType)}`), "endpoint: 'VARCHAR'", "date: 'VARCHAR'"];
    return `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${columns.join(', ')}}, timestampformat = '%Y-%m-%d %H:%M:%S.%g')`;
  }

  /** Writes one Parquet file per partition of a segment; returns the records delivered. */
  private async deliverSegment(path: string): Promise<number> {
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
        const partial = join(dir, `.${id}.parquet.tmp`);
        await this.db.run(
          `COPY (SELECT ${parquetColumns()
            .map((c) => c.name)
            .join(', ')} FROM ${this.source(path)} WHERE endpoint = ${sqlString(endpoint)} AND date = ${sqlString(date)})
           TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION snappy)`,
        );
        written.push([partial, join(dir, `${this.streamName}-1-${stamp}-${id}.parquet`)]);
        count += Number(n);
      }
      // All partitions of the segment are written before any appears, so a retry cannot duplicate them.
      for (const [partial, target] of written) await rename(partial, target);
    } finally {
      for (const [partial] of written) await rm(partial, { force: true });
    }
    return count;
  }

  private async writeErrors(rejected: readonly { raw: string; reason: string }[]): Promise<void> {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const dir = join(this.options.dataDir, ERROR_OUTPUT_DIR, `date=${day}`);
    await mkdir(dir, { recursive: true });
    const lines = rejected.map((r) =>
      JSON.stringify({
        attemptsMade: 1,
        arrivalTimestamp: now,
        errorCode: 'DataFormatConversion.InvalidSchema',
        errorMessage: r.reason,
        rawData: Buffer.from(r.raw).toString('base64'),
      }),
    );
    await writeFile(join(dir, `${this.streamName}-1-${randomUUID()}.json`), `${lines.join('\n')}\n`);
    this.failedConversion += rejected.length;
    log('warn', 'records failed conversion and were written under the error prefix', { records: rejected.length, dir });
  }
}
