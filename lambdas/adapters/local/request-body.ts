import type { IncomingMessage } from 'node:http';
import { type LocalServerSettings, localServerSchema } from '../../../lib/config.js';

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

/**
 * Reads a request body, keeping at most `max` bytes (the rest is counted, not kept, so the
 * handler can answer 413 with the size sent), and cuts it when it falls behind `pace`.
 */
export function readBody(req: IncomingMessage, max: number, pace: BodyPace, reader: BodyReader): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  let over = false;
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const elapsed = Date.now() - started;
    const due = bodyDeadline(pace, total);
    if (elapsed < due) {
      timer = setTimeout(check, due - elapsed);
      timer.unref();
      return;
    }
    over = true;
    req.pause();
    req.removeAllListeners('data');
    reader.slow({ receivedBytes: total, elapsedMs: elapsed });
  };
  timer = setTimeout(check, bodyDeadline(pace, 0));
  timer.unref();
  const stop = () => clearTimeout(timer);
  req.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (kept < max) {
      const part = kept + chunk.length > max ? chunk.subarray(0, max - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    }
  });
  req.once('end', () => {
    stop();
    if (!over) reader.done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), total);
  });
  // A client gone mid-body: nothing to answer, the timer goes.
  req.once('close', stop);
}

/** True when the request announces a body that has not been read (`Content-Length` > 0 or chunked). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
