import type { ObjectStore } from '../core/ports.js';
import { REFRESH_ROOT } from './paths.js';

/**
 * Payload files an endpoint's next refresh reads again, whatever its watermark: written by
 * `inference-tables repair` (a file put back from the quarantine, the partitions of windows
 * whose requests came back), taken by the plan step, removed by the finish step once the run
 * that read them succeeds. Reading a file again writes nothing twice (the unpack's MERGE keeps
 * one row per request and row), and the windows of its rows are recomputed.
 */

/** Where an endpoint's files to read again are listed. */
export const replayKey = (endpoint: string) => `${REFRESH_ROOT}/state/${endpoint}.replay.json`;

/** The keys of the payload files to read again. */
export async function readReplay(store: ObjectStore, endpoint: string): Promise<string[]> {
  const bytes = await store.get(replayKey(endpoint));
  if (!bytes) return [];
  const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as { keys?: unknown };
  return Array.isArray(parsed.keys) ? parsed.keys.filter((k): k is string => typeof k === 'string') : [];
}

/** Adds keys to an endpoint's files to read again. */
export async function addReplay(store: ObjectStore, endpoint: string, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  const all = [...new Set([...(await readReplay(store, endpoint)), ...keys])].sort();
  await store.put(replayKey(endpoint), JSON.stringify({ keys: all }));
}

/** Removes the keys a successful run has read (keys added since stay for the next run). */
export async function consumeReplay(store: ObjectStore, endpoint: string, read: readonly string[]): Promise<void> {
  if (read.length === 0) return;
  const done = new Set(read);
  const left = (await readReplay(store, endpoint)).filter((k) => !done.has(k));
  if (left.length === 0) await store.delete([replayKey(endpoint)]);
  else await store.put(replayKey(endpoint), JSON.stringify({ keys: left }));
}
