import { setTimeout as sleep } from 'node:timers/promises';
import { type FirehoseClient, PutRecordBatchCommand, type _Record } from '@aws-sdk/client-firehose';
import type { CaptureRecord } from '../../core/capture-record.js';
import { log } from '../../core/log.js';
import { type CaptureSink, CaptureSinkError, type CaptureStatus } from '../../core/ports.js';

/** PutRecordBatch takes at most 500 records and 4 MiB per call (a fixed service limit). */
export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export interface FirehoseSinkOptions {
  /** Delivery stream of each endpoint (an endpoint may be sharded over several streams). */
  readonly streamsFor: (endpoint: string) => readonly string[];
  /** Attempts per record, the first included. */
  readonly maxAttempts?: number;
  /** First backoff; doubled each retry, with full jitter. */
  readonly baseDelayMs?: number;
}

interface Pending {
  readonly record: CaptureRecord;
  readonly data: Uint8Array;
}

/**
 * Capture sink on Amazon Data Firehose. Records are sent with PutRecordBatch in batches
 * within the service limits; a call can succeed with `FailedPutCount > 0`, so only the
 * failed entries are sent again, with exponential backoff and jitter. Records still failing
 * after the last attempt are reported in a CaptureSinkError.
 */
export class FirehoseSink implements CaptureSink {
  private readonly failures = new Map<string, string>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private shard = 0;

  public constructor(
    private readonly client: FirehoseClient,
    private readonly options: FirehoseSinkOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 25;
  }

  public async put(records: readonly CaptureRecord[]): Promise<void> {
    const byStream = new Map<string, Pending[]>();
    for (const record of records) {
      const streams = this.options.streamsFor(record.endpoint);
      if (streams.length === 0) throw new CaptureSinkError(`No delivery stream for endpoint '${record.endpoint}'.`, [record]);
      // Spread a sharded endpoint's records over its streams in turn.
      const stream = streams[this.shard++ % streams.length] as string;
      let list = byStream.get(stream);
      if (!list) byStream.set(stream, (list = []));
      list.push({ record, data: new TextEncoder().encode(`${JSON.stringify(record)}\n`) });
    }
    const failed: CaptureRecord[] = [];
    let lastError: unknown;
    await Promise.all(
      [...byStream].map(async ([stream, pending]) => {
        for (const batch of batches(pending)) {
          const result = await this.sendWithRetries(stream, batch);
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
      throw new CaptureSinkError(`${failed.length} of ${records.length} capture records were not accepted by Firehose.`, failed, { cause: lastError });
    }
  }

  public status(endpoint: string): CaptureStatus {
    const failure = this.failures.get(endpoint);
    if (failure) return { status: 'FAILED', message: `Last delivery to Firehose failed: ${failure}` };
    return { status: 'ACTIVE', message: `Delivering through ${this.options.streamsFor(endpoint).join(', ')}.` };
  }

  private async sendWithRetries(stream: string, batch: readonly Pending[]): Promise<{ failed: readonly Pending[]; error?: unknown }> {
    let remaining = batch;
    let error: unknown;
    for (let attempt = 1; attempt <= this.maxAttempts && remaining.length > 0; attempt++) {
      if (attempt > 1) await sleep(Math.random() * this.baseDelayMs * 2 ** (attempt - 2));
      try {
        const out = await this.client.send(
          new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: remaining.map((p): _Record => ({ Data: p.data })) }),
        );
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
