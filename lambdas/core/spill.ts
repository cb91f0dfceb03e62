import { randomUUID } from 'node:crypto';
import type { CaptureRecord } from './capture-record.js';
import { log } from './log.js';
import { UNROUTED_ENDPOINT, isValidName } from './names.js';
import { type CaptureSink, CaptureSinkError, type CaptureStatus, type MetricDatum, type MetricsPublisher, type ObjectStore } from './ports.js';
import { UserFacingError } from '../shared/errors.js';

/**
 * Where capture records the stream did not take are kept until they are redriven:
 * `_spill/<endpoint>/<date>/<ms>-<uuid>.ndjson` in the data bucket (on AWS, encrypted with
 * the environment's key) or the data folder. Outside every table's prefix, so no query sees
 * a record twice.
 */
export const SPILL_PREFIX = '_spill/';

/** Names of the capture-path counters, published per endpoint (CloudWatch `InferenceTables`). */
export const CaptureMetric = {
  /** Records sent again after a throttle or a partial batch failure. */
  retried: 'CaptureRetried',
  /** Records the stream did not take in time, written to the spill prefix. */
  spilled: 'CaptureSpilled',
  /** Records neither the stream nor the spill took: counted and logged with their ids. */
  lost: 'CaptureLost',
  /** Spilled records put back into the stream. */
  redriven: 'CaptureRedriven',
} as const;
/** One of the capture-path counters. */
export type CaptureMetricName = (typeof CaptureMetric)[keyof typeof CaptureMetric];

/** One line of a spill object. */
export interface SpilledLine {
  readonly spilled_at_ms: number;
  /** Why the stream did not take the record (the last error). */
  readonly reason: string;
  readonly record: CaptureRecord;
}

/** Neither the stream nor the spill prefix took these records. */
export class CaptureLostError extends Error {
  public readonly lost: readonly CaptureRecord[];
  public constructor(message: string, lost: readonly CaptureRecord[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'CaptureLostError';
    this.lost = lost;
  }
}

/** Counts `n` events of a capture-path counter for an endpoint, now. */
export function captureDatum(name: CaptureMetricName, endpoint: string, n: number): MetricDatum {
  return { name, value: n, unit: 'Count', timestamp: new Date(), dimensions: { Endpoint: endpoint } };
}

function spillEndpoint(record: CaptureRecord): string {
  return typeof record.endpoint === 'string' && isValidName(record.endpoint) ? record.endpoint : UNROUTED_ENDPOINT;
}

/** Key of a new spill object for an endpoint's records of one day. */
export function spillKey(endpoint: string, date: string, nowMs: number): string {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : new Date(nowMs).toISOString().slice(0, 10);
  return `${SPILL_PREFIX}${endpoint}/${day}/${nowMs.toString().padStart(15, '0')}-${randomUUID()}.ndjson`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(item);
  }
  return out;
}

/** Options of {@link SpillingSink}. */
export interface SpillingSinkOptions {
  /** The spill write's own time budget: past it the records are counted lost. */
  readonly spillTimeoutMs: number;
}

/**
 * The capture sink the scoring handler uses: the stream, then a durable fallback. Records
 * the stream does not take (within its own retry budget) are written to the spill prefix
 * and the put resolves, so the caller is answered normally; `redrive` puts them back later.
 * Only when the spill fails too are the records lost: counted, logged with their request
 * ids, and the put rejects with CaptureLostError.
 */
export class SpillingSink implements CaptureSink {
  private readonly spilledBy = new Map<string, number>();

  public constructor(
    private readonly stream: CaptureSink,
    private readonly store: ObjectStore,
    private readonly metrics: MetricsPublisher,
    private readonly options: SpillingSinkOptions,
  ) {}

  public async put(records: readonly CaptureRecord[]): Promise<void> {
    let failed: readonly CaptureRecord[];
    let reason: string;
    try {
      await this.stream.put(records);
      return;
    } catch (error) {
      failed = error instanceof CaptureSinkError ? error.failed : records;
      reason = error instanceof Error ? error.message : String(error);
    }
    const now = Date.now();
    const lost: CaptureRecord[] = [];
    let lastError: unknown;
    await Promise.all(
      [...groupBy(failed, (r) => `${spillEndpoint(r)}/${r.date}`).values()].map(async (group) => {
        const endpoint = spillEndpoint(group[0] as CaptureRecord);
        const body = group.map((record) => JSON.stringify({ spilled_at_ms: now, reason, record } satisfies SpilledLine)).join('\n');
        try {
          await withTimeout(this.store.put(spillKey(endpoint, (group[0] as CaptureRecord).date, now), `${body}\n`), this.options.spillTimeoutMs, 'spill write');
          this.spilledBy.set(endpoint, (this.spilledBy.get(endpoint) ?? 0) + group.length);
          await this.publish(CaptureMetric.spilled, endpoint, group.length);
          log('warn', 'capture records spilled; redrive puts them back into the stream', { endpoint, records: group.length, reason });
        } catch (error) {
          lastError = error;
          lost.push(...group);
          await this.publish(CaptureMetric.lost, endpoint, group.length);
          log('error', 'capture records lost: the stream and the spill both failed', {
            endpoint,
            requestIds: group.map((r) => r.request_id),
            reason,
            spillError: error instanceof Error ? error.message : String(error),
          });
        }
      }),
    );
    if (lost.length > 0) throw new CaptureLostError(`${lost.length} capture records could be neither delivered nor spilled.`, lost, { cause: lastError });
  }

  public status(endpoint: string): CaptureStatus {
    const status = this.stream.status(endpoint);
    const spilled = this.spilledBy.get(endpoint);
    if (!spilled) return status;
    return { status: status.status, message: `${status.message} ${spilled} records spilled since start, kept under ${SPILL_PREFIX}${endpoint}/ for redrive.` };
  }

  private async publish(name: CaptureMetricName, endpoint: string, n: number): Promise<void> {
    try {
      await this.metrics.publish([captureDatum(name, endpoint, n)]);
    } catch (error) {
      log('warn', 'could not publish a capture counter', { name, endpoint, n, error });
    }
  }
}

/** Rejects when `promise` has not settled after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What one redrive did. */
export interface RedriveReport {
  /** Spill objects read. */
  readonly objects: number;
  /** Records put back into the stream (their objects deleted). */
  readonly redriven: number;
  /** Objects left in place because the stream refused them again, with why. */
  readonly failed: readonly { readonly key: string; readonly records: number; readonly error: string }[];
  /** Objects left in place because a line is not a spilled record (to be looked at by hand). */
  readonly unreadable: readonly { readonly key: string; readonly line: number }[];
}

/** Options of {@link redriveSpilled}. */
export interface RedriveOptions {
  /** Objects taken in one run, oldest first; the rest wait for the next. */
  readonly maxObjects?: number;
  /** Only this endpoint's spilled records. */
  readonly endpoint?: string;
}

function parseSpillObject(text: string): { records: CaptureRecord[]; badLine?: number } {
  const records: CaptureRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.length === 0) continue;
    try {
      const parsed = JSON.parse(line) as Partial<SpilledLine>;
      if (typeof parsed.record !== 'object' || parsed.record === null || typeof parsed.record.request_id !== 'string') return { records, badLine: i + 1 };
      records.push(parsed.record);
    } catch {
      return { records, badLine: i + 1 };
    }
  }
  return { records };
}

/**
 * Puts spilled records back into the stream, oldest object first; an object is deleted only
 * after the stream took all its records, so a redrive that stops half way repeats records
 * rather than losing them (the unpack step keeps one row per request id).
 */
export async function redriveSpilled(store: ObjectStore, stream: CaptureSink, metrics: MetricsPublisher, options: RedriveOptions = {}): Promise<RedriveReport> {
  if (options.endpoint !== undefined && !isValidName(options.endpoint)) throw new Error(`Invalid endpoint name '${options.endpoint.slice(0, 64)}'.`);
  const objects = (await store.list(options.endpoint ? `${SPILL_PREFIX}${options.endpoint}/` : SPILL_PREFIX))
    .filter((o) => o.key.endsWith('.ndjson'))
    .sort((a, b) => (a.key.split('/').pop() as string).localeCompare(b.key.split('/').pop() as string))
    .slice(0, options.maxObjects ?? Number.POSITIVE_INFINITY);
  let redriven = 0;
  const failed: { key: string; records: number; error: string }[] = [];
  const unreadable: { key: string; line: number }[] = [];
  for (const object of objects) {
    const bytes = await store.get(object.key);
    if (!bytes) continue; // taken by a concurrent redrive
    const { records, badLine } = parseSpillObject(new TextDecoder().decode(bytes));
    if (badLine !== undefined) {
      unreadable.push({ key: object.key, line: badLine });
      log('error', 'a spill object holds an unreadable line and was left in place', { key: object.key, line: badLine });
      continue;
    }
    try {
      await stream.put(records);
    } catch (error) {
      failed.push({ key: object.key, records: records.length, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    await store.delete([object.key]);
    redriven += records.length;
    for (const [endpoint, group] of groupBy(records, spillEndpoint)) {
      await metrics.publish([captureDatum(CaptureMetric.redriven, endpoint, group.length)]);
    }
  }
  return { objects: objects.length, redriven, failed, unreadable };
}

/** A redrive could not start, or left spilled records behind; the message says which and what to do. */
export class RedriveError extends UserFacingError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RedriveError';
  }
}
