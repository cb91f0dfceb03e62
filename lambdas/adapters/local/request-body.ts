import type { IncomingMessage } from 'node:http';
import { type LocalServerSettings, localServerSchema } from '../../core/config/index.js';

/**
 * How slowly a request body may arrive before it is cut (Apache's `mod_reqtimeout` model): a
 * grace period, then one more second for every `minBytesPerSecond` bytes received, and never
 * past the deadline. A caller trickling a byte at a time is cut after the grace period; a large
 * body at any honest rate is not.
 */
export interface BodyPace {
  readonly graceMs: number;
  readonly minBytesPerSecond: number;
  readonly deadlineMs: number;
}

/** The pace of the local server's settings (`local.*` in the configuration). */
export function bodyPace(settings: LocalServerSettings): BodyPace {
  return { graceMs: settings.body_grace_seconds * 1000, minBytesPerSecond: settings.body_min_bytes_per_second, deadlineMs: settings.body_deadline_seconds * 1000 };
}

/** The pace the configuration's defaults give. */
export const DEFAULT_BODY_PACE: BodyPace = bodyPace(localServerSchema.parse({}));

/** A body cut for arriving too slowly: what had arrived, and when. */
export interface SlowBody {
  readonly receivedBytes: number;
  readonly elapsedMs: number;
}

/** What reading a body ends with. */
export interface BodyReader {
  /** The whole body arrived: the first `max` bytes, and the size sent. */
  readonly done: (body: Buffer, totalBytes: number) => void;
  /** The body arrived slower than the pace allows; reading has stopped. */
  readonly slow: (slow: SlowBody) => void;
}

/** The instant (ms after the start) by which a body of `received` bytes must be complete. */
export function bodyDeadline(pace: BodyPace, received: number): number {
  return Math.min(pace.deadlineMs, pace.graceMs + (received / pace.minBytesPerSecond) * 1000);
}

interface Reading {
  readonly req: IncomingMessage;
  readonly started: number;
  received: number;
  readonly reader: BodyReader;
}

/**
 * Reads request bodies and cuts those that fall behind the pace. One sweep on an interval
 * checks every body still arriving (a timer per request costs more than the whole read of a
 * small body), so a slow body is cut within a sweep period of its deadline.
 */
export class BodyReaders {
  private readonly reading = new Set<Reading>();
  private readonly timer: NodeJS.Timeout;

  public constructor(private readonly pace: BodyPace) {
    this.timer = setInterval(() => this.sweep(), Math.max(50, Math.min(1000, pace.graceMs / 4)));
    this.timer.unref();
  }

  /**
   * Reads a request body, keeping at most `max` bytes (the rest is counted, not kept, so the
   * handler can answer 413 with the size sent).
   */
  public read(req: IncomingMessage, max: number, reader: BodyReader): void {
    const chunks: Buffer[] = [];
    let kept = 0;
    const reading: Reading = { req, started: Date.now(), received: 0, reader };
    this.reading.add(reading);
    req.on('data', (chunk: Buffer) => {
      reading.received += chunk.length;
      if (kept < max) {
        const part = kept + chunk.length > max ? chunk.subarray(0, max - kept) : chunk;
        chunks.push(part);
        kept += part.length;
      }
    });
    req.once('end', () => {
      // Gone from the set: the body was not cut, or this end came after the cut.
      if (this.reading.delete(reading)) reader.done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), reading.received);
    });
  }

  /** Stops the sweep (the server is closing). */
  public stop(): void {
    clearInterval(this.timer);
  }

  private sweep(): void {
    const now = Date.now();
    for (const r of this.reading) {
      // A client gone mid-body: nothing to answer.
      if (r.req.destroyed) {
        this.reading.delete(r);
        continue;
      }
      const elapsed = now - r.started;
      if (elapsed < bodyDeadline(this.pace, r.received)) continue;
      this.reading.delete(r);
      r.req.pause();
      r.req.removeAllListeners('data');
      r.reader.slow({ receivedBytes: r.received, elapsedMs: elapsed });
    }
  }
}

/** True when the request announces a body that has not been read (`Content-Length` > 0 or chunked). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
