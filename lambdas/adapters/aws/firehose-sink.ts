import { type FirehoseClient, PutRecordBatchCommand, type _Record } from '@aws-sdk/client-firehose';
import type { CaptureRecord } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { type CaptureSink, CaptureSinkError, type CaptureStatus, type MetricsPublisher } from '../../core/ports.js';
import { CaptureMetric, captureDatum } from '../../core/spill.js';

/** PutRecordBatch takes at most 500 records and 4 MiB per call (a fixed service limit). */
export const MAX_BATCH_RECORDS = 500;
/** See {@link MAX_BATCH_RECORDS}. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** Options of {@link FirehoseSink}. */
export interface FirehoseSinkOptions {
  /** Delivery stream of each endpoint (an endpoint may be sharded over several streams). */
  readonly streamsFor: (endpoint: string) => readonly string[];
  /**
   * Time one put may take, every attempt and wait included (default 1,000 ms). A call still
   * running at the deadline is abandoned; records not taken by then are reported failed, for
   * the caller to spill. This bounds what capture adds to a request's latency.
   */
  readonly budgetMs?: number;
  /** Attempts per record, the first included (default 8; the budget usually ends them first). */
  readonly maxAttempts?: number;
  /** First backoff; doubled each retry up to `maxDelayMs`, with full jitter. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Where the retry counter goes (`CaptureRetried` per endpoint). */
  readonly metrics?: MetricsPublisher;
}

/** Waits with the global timer (which tests can fake). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Firehose call that did not answer before the put's deadline. */
export class FirehoseTimeoutError extends Error {
  public constructor(ms: number) {
    super(`PutRecordBatch did not answer within the ${ms} ms left of the capture budget`);
    this.name = 'FirehoseTimeoutError';
  }
}

interface Pending {
  readonly record: CaptureRecord;
  readonly data: Uint8Array;
}

/**
 * Capture sink on Amazon Data Firehose. Records are sent with PutRecordBatch in batches
 * within the service limits; a call can succeed with `FailedPutCount > 0`, so only the
 * failed entries are sent again, with exponential backoff and full jitter, inside the put's
 * time budget. Records still failing at the deadline are reported in a CaptureSinkError
 * (the SpillingSink in front of it spills them).
 */
export class FirehoseSink implements CaptureSink {
  private readonly failures = new Map<string, string>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly budgetMs: number;
  private shard = 0;

  public constructor(
    private readonly client: FirehoseClient,
    private readonly options: FirehoseSinkOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.baseDelayMs = options.baseDelayMs ?? 25;
    this.maxDelayMs = options.maxDelayMs ?? 400;
    this.budgetMs = options.budgetMs ?? 1000;
  }

  public async put(records: readonly CaptureRecord[]): Promise<void> {
    const byStream = new Map<string, Pending[]>();
    const failed: CaptureRecord[] = [];
    let lastError: unknown;
    for (const record of records) {
      const streams = this.options.streamsFor(record.endpoint);
      if (streams.length === 0) {
        // Kept failed (to be spilled), while the other records still go out.
        failed.push(record);
        lastError ??= new Error(`no delivery stream for endpoint '${String(record.endpoint).slice(0, 64)}'`);
        continue;
      }
      // Spread a sharded endpoint's records over its streams in turn.
      const stream = streams[this.shard++ % streams.length] as string;
      let list = byStream.get(stream);
      if (!list) byStream.set(stream, (list = []));
      list.push({ record, data: new TextEncoder().encode(`${JSON.stringify(record)}\n`) });
    }
    const deadline = Date.now() + this.budgetMs;
    await Promise.all(
      [...byStream].map(async ([stream, pending]) => {
        for (const batch of batches(pending)) {
          const result = await this.sendWithRetries(stream, batch, deadline);
          failed.push(...result.failed.map((p) => p.record));
          lastError ??= result.error;
        }
      }),
    );
    const failedSet = new Set(failed);
    for (const r of records) {
      if (failedSet.has(r)) this.failures.set(r.endpoint, String((lastError as Error | undefined)?.message ?? 'records rejected by Firehose'));
      else this.failures.delete(r.endpoint);
    }
    if (failed.length > 0) {
      const why = lastError instanceof Error ? lastError.message : 'records rejected';
      throw new CaptureSinkError(`${failed.length} of ${records.length} capture records were not accepted by Firehose: ${why}`, failed, { cause: lastError });
    }
  }

  public status(endpoint: string): CaptureStatus {
    const failure = this.failures.get(endpoint);
    if (failure) return { status: 'FAILED', message: `Last delivery to Firehose failed: ${failure}` };
    return { status: 'ACTIVE', message: `Delivering through ${this.options.streamsFor(endpoint).join(', ')}.` };
  }

  private async sendWithRetries(stream: string, batch: readonly Pending[], deadline: number): Promise<{ failed: readonly Pending[]; error?: unknown }> {
    let remaining = batch;
    let error: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts && remaining.length > 0; attempt++) {
      if (attempt > 1) {
        const delay = Math.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 2));
        if (Date.now() + delay >= deadline) break;
        await sleep(delay);
        this.countRetries(remaining);
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const out = await this.sendBefore(stream, remaining, left);
        if (!out.FailedPutCount) return { failed: [] };
        // Responses are in request order; entries with an ErrorCode failed.
        const responses = out.RequestResponses ?? [];
        remaining = remaining.filter((_, i) => responses[i]?.ErrorCode !== undefined || responses[i] === undefined);
        const first = responses.find((r) => r.ErrorCode);
        error = new Error(`${first?.ErrorCode ?? 'Unknown'}: ${first?.ErrorMessage ?? ''}`);
        log('warn', 'Firehose rejected part of a batch', { stream, failed: remaining.length, attempt, errorCode: first?.ErrorCode });
      } catch (e) {
        error = e;
        log('warn', 'PutRecordBatch failed', { stream, records: remaining.length, attempt, error: e });
      }
    }
    return { failed: remaining, error };
  }

  /** One PutRecordBatch call, abandoned (and aborted) when it has not answered within `ms`. */
  private async sendBefore(stream: string, records: readonly Pending[], ms: number) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new FirehoseTimeoutError(ms));
      }, ms);
    });
    const call = this.client.send(new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.map((p): _Record => ({ Data: p.data })) }), {
      abortSignal: controller.signal,
    });
    call.catch(() => undefined); // a late failure of an abandoned call is not unhandled
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private countRetries(records: readonly Pending[]): void {
    const metrics = this.options.metrics;
    if (!metrics) return;
    const byEndpoint = new Map<string, number>();
    for (const p of records) byEndpoint.set(p.record.endpoint, (byEndpoint.get(p.record.endpoint) ?? 0) + 1);
    void metrics.publish([...byEndpoint].map(([endpoint, n]) => captureDatum(CaptureMetric.retried, endpoint, n))).catch(() => undefined);
  }
}

function* batches(pending: readonly Pending[]): Generator<Pending[]> {
  let batch: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    if (batch.length > 0 && (batch.length === MAX_BATCH_RECORDS || bytes + p.data.length > MAX_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(p);
    bytes += p.data.length;
  }
  if (batch.length > 0) yield batch;
}
