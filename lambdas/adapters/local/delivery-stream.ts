import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type CaptureRecord, captureRecordSchema, parquetColumns } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { isValidName, tableName } from '../../core/names.js';
import type { CaptureSink, CaptureStatus } from '../../core/ports.js';
import { openDuckDb, sqlString } from './duckdb.js';

/** Options of the local delivery stream; the same knobs as a Firehose delivery stream. */
export interface LocalDeliveryStreamOptions {
  /** Root folder of the tables: `<dataDir>/<endpoint>_payload/endpoint=…/date=…/*.parquet`. */
  readonly dataDir: string;
  /** Deliver at least this often (Firehose `IntervalInSeconds`). */
  readonly bufferIntervalMs: number;
  /** Deliver when this many bytes are buffered (Firehose `SizeInMBs`). */
  readonly bufferSizeBytes: number;
  /** Prefix of the delivered file names. */
  readonly streamName?: string;
}

interface Buffered {
  readonly line: string;
  readonly endpoint: string;
  readonly date: string;
}

/** Where records that fail conversion are written, like Firehose's error output prefix. */
export const ERROR_OUTPUT_DIR = join('errors', 'format-conversion-failed');

/**
 * A delivery stream with Firehose's semantics on one machine: records are buffered and
 * delivered by size or interval as Snappy Parquet files with the payload table's schema, in
 * Hive partitions taken from each record's own `endpoint` and `date`. Records that do not
 * match the schema are written under `errors/format-conversion-failed/` with the reason.
 * Files appear whole (written under a temporary name, then renamed).
 */
export class LocalDeliveryStream implements CaptureSink {
  private buffer: Buffered[] = [];
  private bufferedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly failures = new Map<string, string>();
  private readonly streamName: string;
  private readonly columnsSql: string;
  private closed = false;
  /** Records delivered to Parquet since start. */
  public delivered = 0;
  /** Records written under the error prefix since start. */
  public failedConversion = 0;

  private constructor(
    private readonly options: LocalDeliveryStreamOptions,
    private readonly instance: DuckDBInstance,
    private readonly db: DuckDBConnection,
  ) {
    this.streamName = options.streamName ?? 'inference-tables';
    this.columnsSql = `{${parquetColumns()
      .map((c) => `${c.name}: ${sqlString(c.duckdbType)}`)
      .join(', ')}}`;
    if (options.bufferIntervalMs > 0) {
      this.timer = setInterval(() => void this.flush(), options.bufferIntervalMs);
      this.timer.unref();
    }
  }

  /** Opens a stream writing under `options.dataDir`. */
  public static async open(options: LocalDeliveryStreamOptions): Promise<LocalDeliveryStream> {
    await mkdir(join(options.dataDir, '.staging'), { recursive: true });
    const { instance, connection } = await openDuckDb();
    return new LocalDeliveryStream(options, instance, connection);
  }

  /** Accepts records into the buffer (checked against the schema); delivers when the buffer is full. */
  public async put(records: readonly CaptureRecord[]): Promise<void> {
    if (this.closed) throw new Error('The local delivery stream is closed.');
    const rejected: { raw: string; reason: string }[] = [];
    for (const record of records) {
      const line = JSON.stringify(record);
      const checked = captureRecordSchema.safeParse(record);
      if (!checked.success || !isValidName(record.endpoint)) {
        const reason = checked.success ? `invalid endpoint name '${String(record.endpoint).slice(0, 64)}'` : checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        rejected.push({ raw: line, reason });
        continue;
      }
      this.buffer.push({ line, endpoint: record.endpoint, date: record.date });
      this.bufferedBytes += line.length + 1;
    }
    if (rejected.length > 0) await this.writeErrors(rejected);
    if (this.bufferedBytes >= this.options.bufferSizeBytes) void this.flush();
  }

  public status(endpoint: string): CaptureStatus {
    const failure = this.failures.get(endpoint);
    if (failure) return { status: 'FAILED', message: `Last delivery failed and will be retried: ${failure}` };
    return { status: 'ACTIVE', message: `Delivering to ${join(this.options.dataDir, tableName(endpoint, 'payload'))} every ${this.options.bufferIntervalMs / 1000} s.` };
  }

  /** Records waiting in the buffer. */
  public get pending(): number {
    return this.buffer.length;
  }

  /** Delivers everything buffered now. Deliveries never overlap. */
  public flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.deliver());
    return this.flushing;
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

  private async deliver(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    const groups = new Map<string, Buffered[]>();
    for (const item of batch) {
      const key = `${item.endpoint}\u0000${item.date}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(item);
    }
    for (const group of groups.values()) {
      const { endpoint, date } = group[0] as Buffered;
      try {
        await this.writeParquet(endpoint, date, group);
        this.delivered += group.length;
        this.failures.delete(endpoint);
      } catch (error) {
        // Firehose keeps undeliverable data and retries; so do we, at the next interval.
        this.failures.set(endpoint, (error as Error).message);
        log('error', 'local delivery failed; records kept for the next attempt', { endpoint, records: group.length, error });
        this.buffer.unshift(...group);
        this.bufferedBytes += group.reduce((s, g) => s + g.line.length + 1, 0);
      }
    }
  }

  private async writeParquet(endpoint: string, date: string, group: readonly Buffered[]): Promise<void> {
    const id = randomUUID();
    const staging = join(this.options.dataDir, '.staging', `${id}.ndjson`);
    const dir = join(this.options.dataDir, tableName(endpoint, 'payload'), `endpoint=${endpoint}`, `date=${date}`);
    const now = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '-');
    const target = join(dir, `${this.streamName}-1-${now}-${id}.parquet`);
    const partial = join(dir, `.${id}.parquet.tmp`);
    await mkdir(dir, { recursive: true });
    await writeFile(staging, `${group.map((g) => g.line).join('\n')}\n`);
    try {
      await this.db.run(
        `COPY (SELECT ${parquetColumns()
          .map((c) => c.name)
          .join(', ')} FROM read_json(${sqlString(staging)}, format='newline_delimited', columns=${this.columnsSql}, timestampformat='%Y-%m-%d %H:%M:%S.%g'))
         TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION snappy)`,
      );
      await rename(partial, target);
    } finally {
      await rm(staging, { force: true });
      await rm(partial, { force: true });
    }
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
