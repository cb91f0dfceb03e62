import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type CaptureRecord, conversionProblem } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { isValidName, tableName } from '../../core/names.js';
import type { CaptureSink, CaptureStatus } from '../../core/ports.js';
import { UserFacingError } from '../../shared/errors.js';
import { openDuckDb } from './duckdb.js';
import { replaceFileDurably } from './durable-fs.js';
import { ParquetDelivery, type SetAside } from './parquet-delivery.js';
import { PidLock } from './pid-lock.js';
import { StagingLog } from './staging-log.js';

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
  /**
   * Sync each write of the staging log to disk before `put` resolves (default true), so an
   * answered request survives `kill -9` and power loss. Off only to measure what it costs.
   */
  readonly syncWrites?: boolean;
}

/**
 * The write-ahead log: records accepted and not yet delivered, one newline-delimited JSON
 * segment file at a time.
 */
export const STAGING_DIR = '.staging';

/** DuckDB's errors for a line it cannot read or convert (as opposed to an I/O failure). */
const UNREADABLE = /Invalid Input Error|Conversion Error/;

/** The staging folder's owner: one stream at a time may write and recover it. */
const LOCK_FILE = 'LOCK';

/** The data folder is already written by a live stream (another `npm start`, or this process). */
export class DataFolderBusyError extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'DataFolderBusyError';
  }
}

/**
 * Takes the staging folder. A second stream on the same folder would recover, deliver and
 * delete the first one's live segment while it still appends to it.
 */
function lockStaging(staging: string, dataDir: string): Promise<PidLock> {
  return PidLock.acquire(join(staging, LOCK_FILE), (holder) =>
    new DataFolderBusyError(
      `The data folder ${dataDir} is in use by ${holder === 'this process' ? 'another delivery stream of this process' : `process ${holder.pid} (a running \`npm start\`?)`}; stop it first or use another data folder (--data-dir).`,
    ),
  );
}

/**
 * A delivery stream with Firehose's semantics on one machine, composed of a lock on its
 * staging folder, a write-ahead log ({@link StagingLog}: accepted records are synced to disk
 * before `put` resolves, concurrent puts sharing one write and one sync) and a Parquet
 * conversion ({@link ParquetDelivery}: by size or interval, Snappy Parquet files with the
 * payload table's schema, in Hive partitions taken from each record's own `endpoint` and
 * `date`; records that do not fit go under `errors/format-conversion-failed/` with the
 * reason). A segment left by a stopped process is delivered when the stream opens again.
 */
export class LocalDeliveryStream implements CaptureSink {
  private readonly staging: StagingLog;
  private readonly parquet: ParquetDelivery;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** Why the last delivery failed, until one succeeds. */
  private lastFailure: string | undefined;
  private closed = false;
  /** Records delivered to Parquet since start. */
  public delivered = 0;
  /** Records written under the error prefix since start. */
  public failedConversion = 0;

  private constructor(
    private readonly options: LocalDeliveryStreamOptions,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly lock: PidLock,
  ) {
    const staging = join(options.dataDir, STAGING_DIR);
    this.staging = new StagingLog({
      dir: staging,
      sync: options.syncWrites !== false,
      segmentBytes: options.bufferSizeBytes,
      exclusive: (op) => this.exclusive(op),
      onFull: () => void this.flush().catch(() => undefined),
    });
    this.parquet = new ParquetDelivery(db, { dataDir: options.dataDir, scratchDir: staging, streamName: options.streamName ?? 'inference-tables' });
    if (options.bufferIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), options.bufferIntervalMs);
      this.timer.unref();
    }
  }

  /** What the recovery of segments left by an earlier process found, summed. */
  public get recovered(): StagingLog['recovered'] {
    return this.staging.recovered;
  }

  /**
   * Opens a stream writing under `options.dataDir`. Segments left by an earlier process (a
   * stop, a crash, `kill -9`) are recovered and delivered first.
   */
  public static async open(options: LocalDeliveryStreamOptions): Promise<LocalDeliveryStream> {
    const staging = join(options.dataDir, STAGING_DIR);
    await mkdir(staging, { recursive: true });
    const lock = await lockStaging(staging, options.dataDir);
    let db: Awaited<ReturnType<typeof openDuckDb>>;
    try {
      db = await openDuckDb();
    } catch (error) {
      await lock.release();
      throw error;
    }
    const stream = new LocalDeliveryStream(options, db.instance, db.connection, lock);
    try {
      const setAside = (lines: readonly string[]) => stream.parquet.writeErrors(lines.map((raw) => ({ raw, reason: 'unreadable line in the staging log' })), 'Staging.UnreadableLine');
      for (const path of await stream.staging.leftovers()) await stream.staging.recover(path, setAside);
      if (stream.staging.closed.length > 0) {
        log('info', 'delivering records accepted before the last stop', { segments: stream.staging.closed.length, records: stream.staging.recovered.records });
        await stream.flush();
      }
    } catch (error) {
      await stream.close().catch(() => undefined);
      throw error;
    }
    return stream;
  }

  /**
   * Accepts records: resolves once they are written to the staging log and synced. Records
   * that do not fit the payload columns go to the error prefix instead. Rejects when the
   * write fails (a full disk): nothing of that write is kept.
   */
  public async put(records: readonly CaptureRecord[]): Promise<void> {
    if (this.closed) throw new Error('The local delivery stream is closed.');
    const rejected: SetAside[] = [];
    let text = '';
    for (const record of records) {
      const line = JSON.stringify(record);
      const problem = conversionProblem(record) ?? (isValidName(record.endpoint) ? null : `endpoint: invalid name '${String(record.endpoint).slice(0, 64)}'`);
      if (problem) rejected.push({ raw: line, reason: problem });
      else text += `${line}\n`;
    }
    if (rejected.length > 0) {
      await this.parquet.writeErrors(rejected);
      this.failedConversion += rejected.length;
    }
    if (text) await this.staging.append(text);
  }

  public status(endpoint: string): CaptureStatus {
    if (this.lastFailure) return { status: 'FAILED', message: `Last delivery failed and will be retried: ${this.lastFailure}` };
    return { status: 'ACTIVE', message: `Delivering to ${tableName(endpoint, 'payload')} every ${this.options.bufferIntervalMs / 1000} s.` };
  }

  /** Delivers everything accepted so far. Deliveries never overlap. */
  public flush(): Promise<void> {
    return this.exclusive(async () => {
      await this.staging.rotate();
      await this.deliverClosed();
    });
  }

  /** Delivers what is buffered and releases the database. */
  public async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.db.closeSync();
      this.instance.closeSync();
      await this.lock.release();
    }
  }

  /** Runs one segment operation at a time: writes, rotation and delivery never interleave. */
  private exclusive(op: () => Promise<void>): Promise<void> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deliverClosed(): Promise<void> {
    while (this.staging.closed.length > 0) {
      const path = this.staging.closed[0] as string;
      try {
        this.delivered += await this.parquet.deliver(path);
        this.lastFailure = undefined;
        await this.staging.delivered(path);
      } catch (error) {
        // A line the converter cannot read must not hold back every record behind it: such
        // lines go to the error prefix (Firehose does the same with records it cannot convert).
        if (UNREADABLE.test((error as Error).message)) {
          await this.setAsideUnreadable(path, (error as Error).message);
          continue;
        }
        // Firehose keeps undeliverable data and retries; so does this stream, at the next flush.
        this.lastFailure = (error as Error).message;
        log('error', 'local delivery failed; records kept for the next attempt', { segment: path, error });
        throw error;
      }
    }
  }

  /**
   * Moves the lines of a segment the converter cannot read to the error prefix, and rewrites
   * the segment without them; a segment where they cannot be told apart goes there whole.
   */
  private async setAsideUnreadable(path: string, reason: string): Promise<void> {
    const { unreadable, readable } = await this.parquet.unreadableLines(path);
    await this.parquet.writeErrors(
      unreadable.map((raw) => ({ raw, reason: `the Parquet conversion cannot read this record: ${reason.slice(0, 300)}` })),
      'DataFormatConversion.Unreadable',
    );
    this.failedConversion += unreadable.length;
    log('warn', 'records the conversion cannot read were set aside under the error prefix', { segment: path, records: unreadable.length });
    if (readable.length > 0) await replaceFileDurably(path, `${path}.tmp`, `${readable.join('\n')}\n`);
    else await this.staging.delivered(path);
  }
}
