import { log } from '../core/log.js';
import { QUARANTINE_PREFIX } from '../core/names.js';
import type { ObjectReader, ObjectStore, StoredObject } from '../core/ports.js';
import type { QuarantinedFile } from '../core/unpack-batch.js';
import { partitionDate } from './paths.js';

/** A read of the store failed (as opposed to a file that was read and is not valid). */
export class StoreReadError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreReadError';
  }
}

/**
 * A reader whose failures are the store's (a network error, a throttle): those are retried
 * by the workflow, while an error of the parser over bytes that were read means the file
 * itself is bad.
 */
export function storeReader(store: ObjectStore, object: StoredObject): ObjectReader {
  const inner = store.reader(object);
  return {
    byteLength: inner.byteLength,
    slice: (start, end) => inner.slice(start, end).catch((error: unknown) => Promise.reject(new StoreReadError(`cannot read ${object.key}: ${(error as Error).message}`, { cause: error }))),
  };
}

/** The key a quarantined file is kept under, and the record of why. */
export const quarantineKey = (key: string) => `${QUARANTINE_PREFIX}${key}`;
/** The key of the record of why a file is in quarantine. */
export const reasonKey = (key: string) => `${quarantineKey(key)}.reason.json`;

/**
 * Moves a file out of its table into the quarantine, with the reason beside it: queries and
 * later runs no longer meet it, and nothing of it is lost. Copied before it is removed, so a
 * crash in between leaves it in both places (the next run moves it again).
 */
export async function quarantineFile(store: ObjectStore, key: string, reason: string, runId: string): Promise<QuarantinedFile> {
  const bytes = await store.get(key);
  const target = quarantineKey(key);
  if (bytes) await store.put(target, bytes);
  await store.put(reasonKey(key), JSON.stringify({ key, reason, run_id: runId, at: new Date().toISOString() }));
  await store.delete([key]);
  log('warn', 'a payload file could not be read; moved to the quarantine', { key, quarantine: target, reason });
  return { key, quarantine: store.location(target), reason };
}

/** The files in quarantine under a table (all tables when omitted), with why each is there. */
export async function quarantined(store: ObjectStore, table = ''): Promise<{ key: string; reason: string; at: string }[]> {
  const out: { key: string; reason: string; at: string }[] = [];
  for (const o of await store.list(`${QUARANTINE_PREFIX}${table}`)) {
    if (!o.key.endsWith('.reason.json')) continue;
    const record = JSON.parse(Buffer.from((await store.get(o.key)) ?? '{}').toString('utf8')) as { key?: string; reason?: string; at?: string };
    out.push({ key: record.key ?? o.key.slice(QUARANTINE_PREFIX.length, -'.reason.json'.length), reason: record.reason ?? 'unknown', at: record.at ?? o.lastModified.toISOString() });
  }
  return out;
}

/** Payload files of an endpoint in quarantine, by the date of their partition, within [from, to]. */
export async function quarantinedByDate(store: ObjectStore, table: string, endpoint: string, from: string, to: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const o of await store.list(`${QUARANTINE_PREFIX}${table}/endpoint=${endpoint}/`)) {
    if (o.key.endsWith('.reason.json')) continue;
    const date = partitionDate(o.key);
    if (date && date >= from && date <= to) out.set(date, (out.get(date) ?? 0) + 1);
  }
  return out;
}
