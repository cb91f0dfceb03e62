import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CaptureMetric, SPILL_PREFIX } from '../../core/spill.js';
import type { CaptureCounters } from './capture-counters.js';
import { ERROR_OUTPUT_DIR } from './parquet-delivery.js';
import { FileObjectStore } from './file-object-store.js';

/** Where an endpoint's captured records stand outside its tables: spilled, set aside, counted since start. */
export interface CaptureHealth {
  /** Records in the spill prefix, waiting for a redrive. */
  readonly spilled_waiting: number;
  /** Records under the error prefix (conversion failures, unreadable staging lines), kept with their reason. */
  readonly set_aside: number;
  /** Counters since the server started. */
  readonly since_start: { readonly retried: number; readonly spilled: number; readonly lost: number; readonly redriven: number };
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

/** Counts an endpoint's records outside its tables, from the data folder and the server's counters. */
export async function captureHealth(dataDir: string, endpoint: string, counters?: CaptureCounters): Promise<CaptureHealth> {
  const store = new FileObjectStore(dataDir);
  let spilled = 0;
  for (const o of await store.list(`${SPILL_PREFIX}${endpoint}/`)) spilled += lines(new TextDecoder().decode(await store.get(o.key))).length;
  let setAside = 0;
  const errors = join(dataDir, ERROR_OUTPUT_DIR);
  const files = await readdir(errors, { recursive: true }).catch(() => [] as string[]);
  for (const f of files.filter((x) => x.endsWith('.json'))) {
    for (const line of lines(await readFile(join(errors, f), 'utf8').catch(() => ''))) {
      try {
        const raw = JSON.parse(Buffer.from((JSON.parse(line) as { rawData: string }).rawData, 'base64').toString('utf8')) as { endpoint?: unknown };
        if (raw.endpoint === endpoint) setAside++;
      } catch {
        // an unreadable line belongs to no endpoint
      }
    }
  }
  const total = (name: string) => counters?.total(name, endpoint) ?? 0;
  return {
    spilled_waiting: spilled,
    set_aside: setAside,
    since_start: { retried: total(CaptureMetric.retried), spilled: total(CaptureMetric.spilled), lost: total(CaptureMetric.lost), redriven: total(CaptureMetric.redriven) },
  };
}
