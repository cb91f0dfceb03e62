import { type CaptureRecord, captureRecordSchema } from '../core/capture-record.js';
import type { ObjectStore } from '../core/ports.js';
import { type SpilledLine, spillKey } from '../core/spill.js';

/**
 * Records the Parquet conversion refused (Firehose's error output, and the local delivery's
 * under the same prefix): `errors/<type>/date=<day>/<file>`, one JSON object per line with
 * the record in base64 (`rawData`), the `errorCode` and the `errorMessage`. Their requests
 * are in no table until they are replayed: the health check counts them per endpoint, and
 * `repair` moves the ones that are valid capture records now (a schema edited by hand was
 * put back) to the spill, from where the redrive puts them into the stream again.
 */

/** Where the delivery writes what it could not convert. */
export const ERRORS_PREFIX = 'errors/';
/** Error files read per look: the newest, so a long history costs no more. */
const FILES_READ = 200;

/** A refused record: where it is, why, and the capture record when it reads as one now. */
export interface RefusedRecord {
  readonly key: string;
  readonly line: number;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly endpoint: string | null;
  readonly record: CaptureRecord | null;
}

interface ErrorLine {
  readonly errorCode?: unknown;
  readonly errorMessage?: unknown;
  readonly rawData?: unknown;
}

function decode(key: string, line: string, index: number): RefusedRecord {
  let parsed: ErrorLine;
  try {
    parsed = JSON.parse(line) as ErrorLine;
  } catch {
    return { key, line: index, errorCode: 'unknown', errorMessage: 'the error line is not JSON', endpoint: null, record: null };
  }
  const base = { key, line: index, errorCode: String(parsed.errorCode ?? 'unknown'), errorMessage: String(parsed.errorMessage ?? '') };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(String(parsed.rawData ?? ''), 'base64').toString('utf8'));
  } catch {
    return { ...base, endpoint: null, record: null };
  }
  const endpoint = typeof (raw as { endpoint?: unknown })?.endpoint === 'string' ? (raw as { endpoint: string }).endpoint : null;
  const record = captureRecordSchema.safeParse(raw);
  return { ...base, endpoint, record: record.success ? record.data : null };
}

/** The refused records of an endpoint, in the newest error files. */
export async function refusedRecords(store: ObjectStore, endpoint: string): Promise<RefusedRecord[]> {
  const files = (await store.list(ERRORS_PREFIX)).sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime()).slice(0, FILES_READ);
  const out: RefusedRecord[] = [];
  for (const file of files) {
    const bytes = await store.get(file.key);
    if (!bytes) continue;
    const lines = Buffer.from(bytes).toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim().length === 0) return;
      const refused = decode(file.key, line, i);
      if (refused.endpoint === endpoint) out.push(refused);
    });
  }
  return out;
}

/**
 * Moves an endpoint's refused records that are valid capture records now to the spill
 * (written before they leave the error file: a crash in between replays them twice, which
 * the unpack keeps once); returns how many, and the ones left.
 */
export async function replayRefused(store: ObjectStore, endpoint: string, now = Date.now()): Promise<{ replayed: number; left: RefusedRecord[] }> {
  const refused = await refusedRecords(store, endpoint);
  const ready = refused.filter((r) => r.record !== null);
  const byFile = new Map<string, RefusedRecord[]>();
  for (const r of ready) byFile.set(r.key, [...(byFile.get(r.key) ?? []), r]);
  for (const [key, records] of byFile) {
    const body = records.map((r) => JSON.stringify({ spilled_at_ms: now, reason: `replayed from ${key}: ${r.errorCode}`, record: r.record as CaptureRecord } satisfies SpilledLine)).join('\n');
    await store.put(spillKey(endpoint, (records[0]?.record as CaptureRecord).date, now), `${body}\n`);
    const bytes = await store.get(key);
    if (!bytes) continue;
    const taken = new Set(records.map((r) => r.line));
    const kept = Buffer.from(bytes)
      .toString('utf8')
      .split('\n')
      .filter((line, i) => !taken.has(i) && line.trim().length > 0);
    if (kept.length === 0) await store.delete([key]);
    else await store.put(key, `${kept.join('\n')}\n`);
  }
  return { replayed: ready.length, left: refused.filter((r) => r.record === null) };
}
