import { parquetReadObjects } from 'hyparquet';
import { type Granularity, monitoringSettings, retentionDays } from '../core/config/index.js';
import { ALL_MODELS, TABLE_COLUMN } from '../core/monitoring/index.js';
import { windowLength, windowStart } from '../core/monitoring/windows.js';
import { tableName } from '../core/names.js';
import type { QueryEngine } from '../core/ports.js';
import { literal } from '../core/refresh-sql.js';
import { PAYLOAD_COLUMNS_READ } from '../core/unpack-batch.js';
import { quarantineKey, quarantined, reasonKey } from './quarantine.js';
import { addReplay } from './replay.js';
import { replayRefused } from './delivery-errors.js';
import { acceptedLossKey } from './paths.js';
import { type RefreshDeps, readEndpointState, readJson, tableRef, writeJson } from './steps.js';

/**
 * `inference-tables repair`: brings an endpoint's tables back to what a clean history gives.
 * It puts back the quarantined files that read again (a user replaced them with a good
 * copy), and compares each metrics window's request count with the payload table's: a window
 * with more requests than its metrics counted (files that came back) has its date's files
 * read again by the next refresh, which recomputes its windows; a window with fewer (files
 * still missing) is reported, not recomputed, unless the loss is accepted. What is to be read
 * again is listed for the next run (`replay.ts`), so a repair is finished by a refresh, on one
 * machine as on AWS.
 */

/** What a repair of one endpoint found and did. */
export interface RepairReport {
  readonly endpoint: string;
  /** Quarantined files that read again and were put back in their table. */
  readonly restored: string[];
  /** Quarantined files that still cannot be read, with why. */
  readonly still_quarantined: { key: string; reason: string }[];
  /** Windows with more requests than their metrics counted: their dates are read again and recomputed. */
  readonly came_back: Omit<TrafficWindow, 'dates'>[];
  /** Windows whose unpacked requests are not all in the payload table, or with fewer requests than their metrics counted: files are missing. */
  readonly missing: Omit<TrafficWindow, 'dates'>[];
  /** Whether the missing windows were accepted as they are (recomputed from what is left). */
  readonly accepted_missing: boolean;
  /** Payload files the next refresh reads again. */
  readonly replay: number;
  /** Records the conversion had refused, valid now, moved to the spill (the redrive puts them into the stream). */
  readonly replayed_records: number;
  /** Refused records that are still not valid capture records, with why they were refused. */
  readonly still_refused: { key: string; reason: string }[];
}

/** Options of a repair. */
export interface RepairOptions {
  /** Recompute the windows whose files are missing from what is left, rather than only report them. */
  readonly acceptMissing?: boolean;
  readonly now?: () => Date;
}

/** Buckets of the payload count: every granularity's windows are unions of them. */
const BUCKET_MS = 5 * 60_000;

/** A window whose figures disagree: requests its metrics counted, found in the payload table, and unpacked without a capture. */
export interface TrafficWindow {
  readonly window_start: string;
  readonly recorded: number;
  readonly found: number;
  readonly unpacked_without_payload: number;
  readonly dates: string[];
}

/** Repairs an endpoint's tables; the next refresh of the endpoint finishes the work. */
export async function repairEndpoint(deps: RefreshDeps & { readonly engine: QueryEngine }, endpoint: string, options: RepairOptions = {}): Promise<RepairReport> {
  const table = tableName(endpoint, 'payload');
  const restored: string[] = [];
  const still: { key: string; reason: string }[] = [];
  for (const file of await quarantined(deps.store, `${table}/`)) {
    const bytes = await deps.store.get(quarantineKey(file.key));
    if (bytes && (await readable(bytes))) {
      // Back under its own key; a new object, so the next refresh reads it as new.
      await deps.store.put(file.key, bytes);
      await deps.store.delete([quarantineKey(file.key), reasonKey(file.key)]);
      restored.push(file.key);
    } else {
      still.push({ key: file.key, reason: bytes ? file.reason : 'the quarantined copy is gone' });
    }
  }
  // Records the conversion refused that are valid capture records now go back through the spill.
  const refused = await replayRefused(deps.store, endpoint);
  const windows = await compareTraffic(deps, endpoint, options.now?.() ?? new Date());
  const missing = windows.filter((w) => w.unpacked_without_payload > 0 || w.found < w.recorded);
  const cameBack = windows.filter((w) => w.unpacked_without_payload === 0 && w.found > w.recorded);
  const dates = new Set([...cameBack, ...(options.acceptMissing ? missing : [])].flatMap((w) => w.dates));
  const again: string[] = [...restored];
  for (const date of [...dates].sort()) {
    const files = await deps.store.list(`${table}/endpoint=${endpoint}/date=${date}/`);
    again.push(...files.filter((o) => o.key.endsWith('.parquet')).map((o) => o.key));
  }
  await addReplay(deps.store, endpoint, again);
  if (options.acceptMissing && missing.length > 0) {
    const before = (await readJson<{ windows: Record<string, number> }>(deps.store, acceptedLossKey(endpoint)))?.windows ?? {};
    const windows = { ...before };
    for (const w of missing) windows[w.window_start] = (windows[w.window_start] ?? 0) + w.unpacked_without_payload;
    await writeJson(deps.store, acceptedLossKey(endpoint), { windows });
  }
  const shown = ({ dates: _dates, ...w }: TrafficWindow) => w;
  return {
    endpoint,
    restored,
    still_quarantined: still,
    came_back: cameBack.map(shown),
    missing: missing.map(shown),
    accepted_missing: !!options.acceptMissing && missing.length > 0,
    replayed_records: refused.replayed,
    still_refused: refused.left.map((r) => ({ key: r.key, reason: `${r.errorCode}: ${r.errorMessage.slice(0, 200)}` })),
    replay: new Set(again).size,
  };
}

async function readable(bytes: Uint8Array): Promise<boolean> {
  try {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    await parquetReadObjects({ file: buffer, columns: [...PAYLOAD_COLUMNS_READ], rowEnd: 1 });
    return true;
  } catch {
    return false;
  }
}

/**
 * The windows (of the endpoint's finest granularity) whose recorded request count differs
 * from the payload table's, within the dates the endpoint has and the payload retention keeps.
 */
export async function compareTraffic(
  deps: RefreshDeps & { readonly engine: QueryEngine },
  endpoint: string,
  now: Date,
): Promise<TrafficWindow[]> {
  const settings = monitoringSettings(deps.config, endpoint);
  const state = await readEndpointState(deps.store, endpoint);
  if (!settings.enabled || !state.first_date || !state.last_date) return [];
  const granularity = finest(settings.granularities);
  // A day inside the payload retention: older requests may have left it by design.
  const keptFrom = new Date(now.getTime() - (retentionDays(deps.config).payload - 1) * 86_400_000).toISOString().slice(0, 10);
  const from = state.first_date > keptFrom ? state.first_date : keptFrom;
  const profile = tableRef(deps, tableName(endpoint, 'profile_metrics'), '').sql;
  let recordedRows;
  try {
    recordedRows = await deps.engine.queryColumns(
      `SELECT CAST(to_unixtime(window_start) * 1000 AS DOUBLE) AS s, CAST(request_count AS DOUBLE) AS n FROM ${profile}
       WHERE column_name = ${literal(TABLE_COLUMN)} AND model_id = ${literal(ALL_MODELS)} AND slice_key IS NULL AND granularity = ${literal(granularity)}
         AND window_start >= CAST(${literal(`${from} 00:00:00`)} AS TIMESTAMP)`,
    );
  } catch (error) {
    // No metrics computed yet: nothing to compare with.
    if (/does not exist|not found|TABLE_NOT_FOUND/i.test((error as Error).message)) return [];
    throw error;
  }
  const payload = tableRef(deps, tableName(endpoint, 'payload'), '').sql;
  // Counted as the metrics step counts: one per request id, weighted by 1/sampling_fraction.
  const found = await deps.engine.queryColumns(
    `SELECT CAST(floor(t / ${BUCKET_MS}) AS DOUBLE) AS b, CAST(sum(1e0 / f) AS DOUBLE) AS w
     FROM (SELECT request_id, min(timestamp_ms) AS t, min(sampling_fraction) AS f FROM ${payload}
           WHERE endpoint = ${literal(endpoint)} AND "date" BETWEEN ${literal(from)} AND ${literal(state.last_date)} GROUP BY request_id)
     GROUP BY 1`,
  );
  const weights = new Map<number, number>();
  const [buckets = [], sums = []] = found.data;
  for (let i = 0; i < buckets.length; i++) {
    const s = windowStart(granularity, Number(buckets[i]) * BUCKET_MS);
    weights.set(s, (weights.get(s) ?? 0) + Number(sums[i]));
  }
  // Requests unpacked whose capture is no longer in the payload table: its files are missing.
  const unpacked = tableRef(deps, tableName(endpoint, 'unpacked'), '').sql;
  const orphanRows = await deps.engine.queryColumns(
    `SELECT CAST(floor(to_unixtime(u."timestamp") * 1000 / ${BUCKET_MS}) AS DOUBLE) AS b, CAST(count(DISTINCT u.request_id) AS DOUBLE) AS n
     FROM ${unpacked} u LEFT JOIN (SELECT DISTINCT request_id FROM ${payload} WHERE endpoint = ${literal(endpoint)} AND "date" BETWEEN ${literal(from)} AND ${literal(state.last_date)}) p
       ON p.request_id = u.request_id
     WHERE u."date" BETWEEN DATE ${literal(from)} AND DATE ${literal(state.last_date)} AND p.request_id IS NULL GROUP BY 1`,
  );
  // Requests whose loss an operator accepted are not counted again.
  const accepted = (await readJson<{ windows: Record<string, number> }>(deps.store, acceptedLossKey(endpoint)))?.windows ?? {};
  const orphans = new Map<number, number>();
  const [orphanBuckets = [], orphanCounts = []] = orphanRows.data;
  for (let i = 0; i < orphanBuckets.length; i++) {
    const s = windowStart(granularity, Number(orphanBuckets[i]) * BUCKET_MS);
    orphans.set(s, (orphans.get(s) ?? 0) + Number(orphanCounts[i]));
  }
  const [starts = [], counts = []] = recordedRows.data;
  const out: TrafficWindow[] = [];
  for (let i = 0; i < starts.length; i++) {
    const s = Number(starts[i]);
    const recorded = Number(counts[i] ?? 0);
    const count = Math.round(weights.get(s) ?? 0);
    const lost = Math.max(0, (orphans.get(s) ?? 0) - (accepted[new Date(s).toISOString()] ?? 0));
    if (count === recorded && lost === 0) continue;
    const end = s + windowLength(granularity);
    const dates: string[] = [];
    for (let d = Date.parse(`${new Date(s).toISOString().slice(0, 10)}T00:00:00Z`); d < end; d += 86_400_000) dates.push(new Date(d).toISOString().slice(0, 10));
    out.push({ window_start: new Date(s).toISOString(), recorded, found: count, unpacked_without_payload: lost, dates });
  }
  return out.sort((a, b) => a.window_start.localeCompare(b.window_start));
}

const WINDOW_ORDER: readonly Granularity[] = ['5 minutes', '30 minutes', '1 hour', '1 day', '1 week'];
const finest = (granularities: readonly Granularity[]) => [...granularities].sort((a, b) => WINDOW_ORDER.indexOf(a) - WINDOW_ORDER.indexOf(b))[0] as Granularity;
