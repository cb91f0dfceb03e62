import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type CaptureRecord, conversionProblem, parquetColumns } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { isValidName, tableName } from '../../core/names.js';
import type { CaptureSink, CaptureStatus } from '../../core/ports.js';
import { openDuckDb, sqlString } from './duckdb.js';
import { replaceFileDurably, syncDir, syncFile, writeFileDurably } from './durable-fs.js';
import { PidLock } from './pid-lock.js';
import { UserFacingError } from '../../shared/errors.js';

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

/** Where records that fail conversion are written, like Firehose's error output prefix. */
export const ERROR_OUTPUT_DIR = join('errors', 'format-conversion-failed');
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

/** What the recovery of one segment left by an earlier process found. */
export interface SegmentRecovery {
  /** Complete lines kept for delivery. */
  readonly records: number;
  /** Bytes of a final line cut short by the crash: never synced, so never acknowledged. */
  readonly tornBytes: number;
  /** Complete lines that are not JSON objects; written under the error prefix. */
  readonly unreadable: readonly string[];
}

/**
 * Splits a segment's text into the lines to deliver, a torn tail and unreadable lines.
 * Only the tail can be torn: each write is appended after the previous one was synced, and
 * a failed write is cut back before the segment is used again.
 */
export function recoverSegmentText(text: string): SegmentRecovery & { readonly kept: string } {
  const end = text.lastIndexOf('\n') + 1;
  const kept: string[] = [];
  const unreadable: string[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (line.length === 0) continue;
    let ok = false;
    try {
      const v: unknown = JSON.parse(line);
      ok = typeof v === 'object' && v !== null && !Array.isArray(v);
    } catch {
      ok = false;
    }
    (ok ? kept : unreadable).push(line);
  }
  return { kept: kept.length > 0 ? `${kept.join('\n')}\n` : '', records: kept.length, tornBytes: Buffer.byteLength(text.slice(end)), unreadable };
}

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
 * to a staging segment, the stream's write-ahead log, and synced to disk before `put`
 * resolves; concurrent puts share one write and one sync (group commit). They are
 * delivered by size or interval as Snappy Parquet files with the payload table's schema, in Hive partitions taken from
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
  /** Whether writes of the staging log are synced before `put` resolves. */
  private readonly sync: boolean;
  private closed = false;
  /** Records delivered to Parquet since start. */
  public delivered = 0;
  /** Records written under the error prefix since start. */
  public failedConversion = 0;
  /** What the recovery of segments left by an earlier process found, summed. */
  public readonly recovered = { segments: 0, records: 0, tornBytes: 0, unreadable: 0 };

  private constructor(
    private readonly options: LocalDeliveryStreamOptions,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
    private readonly lock: PidLock,
  ) {
    this.streamName = options.streamName ?? 'inference-tables';
    this.staging = join(options.dataDir, STAGING_DIR);
    this.sync = options.syncWrites !== false;
    if (options.bufferIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), options.bufferIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Opens a stream writing under `options.dataDir`. Segments left by an earlier process (a
   * stop, a crash, `kill -9`) are recovered and delivered first.
   */
  public static async open(options: LocalDeliveryStreamOptions): Promise<LocalDeliveryStream> {
    const staging = join(options.dataDir, STAGING_DIR);
    await mkdir(staging, { recursive: true });
    const lock = await lockStaging(staging, options.dataDir);
    // A rewrite or a Parquet write interrupted by a crash leaves its temporary file; what it came from is whole.
    for (const f of await readdir(staging)) if (f.endsWith('.tmp')) await rm(join(staging, f), { force: true });
    const leftovers = (await readdir(staging)).filter((f) => f.endsWith('.ndjson')).sort().map((f) => join(staging, f));
    let db: Awaited<ReturnType<typeof openDuckDb>>;
    try {
      db = await openDuckDb();
    } catch (error) {
      await lock.release();
      throw error;
    }
    const stream = new LocalDeliveryStream(options, db.instance, db.connection, lock);
    try {
      for (const path of leftovers) await stream.recover(path);
      if (stream.closedSegments.length > 0) {
        log('info', 'delivering records accepted before the last stop', { segments: stream.closedSegments.length, records: stream.recovered.records });
        await stream.flush();
      }
    } catch (error) {
      await stream.close().catch(() => undefined);
      throw error;
    }
    return stream;
  }

  /** Makes a leftover segment deliverable: drops a torn tail, moves unreadable lines to the error prefix. */
  private async recover(path: string): Promise<void> {
    const text = await readFile(path, 'utf8');
    const found = recoverSegmentText(text);
    this.recovered.segments++;
    this.recovered.records += found.records;
    this.recovered.tornBytes += found.tornBytes;
    this.recovered.unreadable += found.unreadable.length;
    if (found.tornBytes > 0) log('warn', 'dropped a torn final line of the staging log (cut by a crash before its sync, so never acknowledged)', { segment: path, bytes: found.tornBytes });
    if (found.unreadable.length > 0) {
      await this.writeErrors(
        found.unreadable.map((raw) => ({ raw, reason: 'unreadable line in the staging log' })),
        'Staging.UnreadableLine',
      );
    }
    if (found.records === 0) {
      await rm(path, { force: true });
      return;
    }
    if (found.kept.length !== text.length) {
      // Rewritten beside it, then renamed over it: a crash now leaves the old or the new whole.
      await replaceFileDurably(path, `${path}.tmp`, found.kept);
    }
    this.closedSegments.push(path);
  }

  /**
   * Accepts records: resolves once they are written to the staging log and synced. Records
   * that do not fit the payload columns go to the error prefix instead. Rejects when the
   * write fails (a full disk): nothing of that write is kept.
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
    if (rejected.length > 0) {
      await this.writeErrors(rejected);
      this.failedConversion += rejected.length;
    }
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
          const segment = (this.segment ??= await this.newSegment());
          const bytes = Buffer.from(text, 'utf8');
          try {
            await segment.handle.write(bytes);
            // One sync for every put that joined this write (group commit).
            if (this.sync) await segment.handle.datasync();
          } catch (error) {
            await this.abandon(segment);
            throw error;
          }
          segment.bytes += bytes.length;
          full = segment.bytes >= this.options.bufferSizeBytes;
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
    const handle = await open(path, 'a');
    // The segment's name must survive a crash as well as its lines.
    if (this.sync) await syncDir(this.staging);
    return { path, handle, bytes: 0 };
  }

  /**
   * After a failed write (a full disk, an I/O error), cuts the segment back to what was
   * written and synced before it, so no partial line is left in the middle, and closes it.
   * The next write opens a new segment.
   */
  private async abandon(segment: Segment): Promise<void> {
    this.segment = undefined;
    try {
      await segment.handle.truncate(segment.bytes);
      await segment.handle.sync();
    } catch (error) {
      // The recovery at the next start drops or quarantines whatever was left.
      log('error', 'could not cut a failed write out of the staging log', { segment: segment.path, error });
    }
    await segment.handle.close().catch(() => undefined);
    if (segment.bytes > 0) this.closedSegments.push(segment.path);
    else await rm(segment.path, { force: true }).catch(() => undefined);
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
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
    const readable = new Set(
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
      return id === undefined || !readable.has(id);
    });
    const badLines = new Set(bad);
    const kept = bad.length === 0 ? [] : lines.filter((l) => !badLines.has(l));
    const aside = bad.length === 0 ? lines : bad;
    await this.writeErrors(
      aside.map((raw) => ({ raw, reason: `the Parquet conversion cannot read this record: ${reason.slice(0, 300)}` })),
      'DataFormatConversion.Unreadable',
    );
    this.failedConversion += aside.length;
    log('warn', 'records the conversion cannot read were set aside under the error prefix', { segment: path, records: aside.length });
    if (kept.length > 0) await replaceFileDurably(path, `${path}.tmp`, `${kept.join('\n')}\n`);
    else {
      this.closedSegments.shift();
      await rm(path, { force: true });
    }
  }

  private source(path: string, ignoreErrors = false): string {
    const columns = [...parquetColumns().map((c) => `${c.name}: ${sqlString(c.duckdbType)}`), "endpoint: 'VARCHAR'", "date: 'VARCHAR'"];
    return `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${columns.join(', ')}}, timestampformat = '%Y-%m-%d %H:%M:%S.%g'${ignoreErrors ? ', ignore_errors = true' : ''})`;
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
        // Written in the staging folder (same file system, so the rename is atomic), where a
        // crash in the middle of the write leaves nothing the next start does not remove.
        const partial = join(this.staging, `${id}.parquet.tmp`);
        await this.db.run(
          `COPY (SELECT ${parquetColumns()
            .map((c) => c.name)
            .join(', ')} FROM ${this.source(path)} WHERE endpoint = ${sqlString(endpoint)} AND date = ${sqlString(date)})
           TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION snappy)`,
        );
        await syncFile(partial);
        written.push([partial, join(dir, `${this.streamName}-1-${stamp}-${id}.parquet`)]);
        count += Number(n);
      }
      // All partitions of the segment are written before any appears, so a retry cannot
      // duplicate them; the renames are synced before the caller removes the segment.
      for (const [partial, target] of written) await rename(partial, target);
      for (const d of new Set(written.map(([, target]) => dirname(target)))) await syncDir(d);
    } finally {
      for (const [partial] of written) await rm(partial, { force: true });
    }
    return count;
  }

  private async writeErrors(rejected: readonly { raw: string; reason: string }[], errorCode = 'DataFormatConversion.InvalidSchema'): Promise<void> {
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
    await writeFileDurably(join(dir, `${this.streamName}-1-${randomUUID()}.json`), `${lines.join('\n')}\n`);
    log('warn', 'records were written under the error prefix', { records: rejected.length, errorCode, dir });
  }
}
