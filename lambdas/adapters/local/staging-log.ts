import { randomUUID } from 'node:crypto';
import { type FileHandle, open, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../../core/log.js';
import { replaceFileDurably, syncDir } from './durable-fs.js';

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
    let ok: boolean;
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

/** Options of a {@link StagingLog}. */
export interface StagingLogOptions {
  /** The staging folder (the stream's, under the data folder). */
  readonly dir: string;
  /** Sync each write before it is acknowledged. */
  readonly sync: boolean;
  /** A segment this large is closed for delivery. */
  readonly segmentBytes: number;
  /** Runs segment operations one at a time (shared with delivery, so the two never interleave). */
  readonly exclusive: (op: () => Promise<void>) => Promise<void>;
  /** Called when a write filled its segment: the stream delivers. */
  readonly onFull: () => void;
}

/**
 * The local delivery stream's write-ahead log: accepted records are appended to a segment
 * file and synced before they are acknowledged; concurrent appends share one write and one
 * sync (group commit). Closed segments wait, oldest first, until delivered and removed;
 * segments left by a process that stopped or died are recovered when the log opens.
 */
export class StagingLog {
  private segment: Segment | undefined;
  /** Closed segments waiting for delivery, oldest first. */
  public readonly closed: string[] = [];
  private pendingText: string[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  /** What the recovery of segments left by an earlier process found, summed. */
  public readonly recovered = { segments: 0, records: 0, tornBytes: 0, unreadable: 0 };

  public constructor(private readonly options: StagingLogOptions) {}

  /** Leftovers of an earlier process: temporary files removed, segments to recover (oldest first). */
  public async leftovers(): Promise<string[]> {
    // A rewrite or a Parquet write interrupted by a crash leaves its temporary file; what it came from is whole.
    for (const f of await readdir(this.options.dir)) if (f.endsWith('.tmp')) await rm(join(this.options.dir, f), { force: true });
    return (await readdir(this.options.dir))
      .filter((f) => f.endsWith('.ndjson'))
      .sort()
      .map((f) => join(this.options.dir, f));
  }

  /**
   * Makes a leftover segment deliverable: drops a torn tail, and hands unreadable lines to
   * `setAside` (the error prefix) before the segment is rewritten without them.
   */
  public async recover(path: string, setAside: (lines: readonly string[]) => Promise<void>): Promise<void> {
    const text = await readFile(path, 'utf8');
    const found = recoverSegmentText(text);
    this.recovered.segments++;
    this.recovered.records += found.records;
    this.recovered.tornBytes += found.tornBytes;
    this.recovered.unreadable += found.unreadable.length;
    if (found.tornBytes > 0) log('warn', 'dropped a torn final line of the staging log (cut by a crash before its sync, so never acknowledged)', { segment: path, bytes: found.tornBytes });
    if (found.unreadable.length > 0) await setAside(found.unreadable);
    if (found.records === 0) {
      await rm(path, { force: true });
      return;
    }
    if (found.kept.length !== text.length) {
      // Rewritten beside it, then renamed over it: a crash now leaves the old or the new whole.
      await replaceFileDurably(path, `${path}.tmp`, found.kept);
    }
    this.closed.push(path);
  }

  /** Group commit: appends arriving while a write is in progress share the next write. */
  public append(text: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingText.push(text);
      this.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Closes the segment being written, if any, for delivery (call inside `exclusive`). */
  public async rotate(): Promise<void> {
    const segment = this.segment;
    if (!segment) return;
    this.segment = undefined;
    await segment.handle.close();
    if (segment.bytes === 0) await rm(segment.path, { force: true });
    else this.closed.push(segment.path);
  }

  /** Removes the oldest closed segment, once delivered. */
  public async delivered(path: string): Promise<void> {
    if (this.closed[0] === path) this.closed.shift();
    await rm(path, { force: true });
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
        await this.options.exclusive(async () => {
          const segment = (this.segment ??= await this.newSegment());
          const bytes = Buffer.from(text, 'utf8');
          try {
            await segment.handle.write(bytes);
            // One sync for every append that joined this write (group commit).
            if (this.options.sync) await segment.handle.datasync();
          } catch (error) {
            await this.abandon(segment);
            throw error;
          }
          segment.bytes += bytes.length;
          full = segment.bytes >= this.options.segmentBytes;
        });
        for (const w of waiters) w.resolve();
      } catch (error) {
        for (const w of waiters) w.reject(error);
      }
      if (full) this.options.onFull();
    }
    this.writing = false;
  }

  private async newSegment(): Promise<Segment> {
    const path = join(this.options.dir, `${Date.now().toString().padStart(15, '0')}-${randomUUID()}.ndjson`);
    const handle = await open(path, 'a');
    // The segment's name must survive a crash as well as its lines.
    if (this.options.sync) await syncDir(this.options.dir);
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
    if (segment.bytes > 0) this.closed.push(segment.path);
    else await rm(segment.path, { force: true }).catch(() => undefined);
  }
}
