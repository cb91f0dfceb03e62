import { randomUUID } from 'node:crypto';
import type { EndpointRun, RefreshInput, UnpackTask } from '../core/refresh-steps.js';
import { tableName } from '../core/names.js';
import type { StoredObject } from '../core/ports.js';
import { runPrefix } from './paths.js';
import { readReplay } from './replay.js';
import { type EndpointState, LIST_MARGIN_MS, type RefreshDeps, capturedEndpoints, readEndpointState, writeJson } from './steps.js';

/**
 * Step 1 of the refresh, Plan: which payload files each endpoint has that no run read (by
 * the endpoint's watermark), and those `repair` listed to read again, cut into unpack tasks.
 */

/** Output of the plan step. */
export interface RefreshPlan {
  readonly run_id: string;
  readonly started_at: string;
  readonly endpoints: EndpointRun[];
  readonly tasks: UnpackTask[];
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Payload files of an endpoint not processed yet, oldest first. */
async function newPayloadFiles(deps: RefreshDeps, state: EndpointState, now: Date): Promise<StoredObject[]> {
  const table = tableName(state.endpoint, 'payload');
  const base = `${table}/endpoint=${state.endpoint}/`;
  let listed: StoredObject[];
  if (state.files_through === 0) {
    listed = await deps.store.list(base);
  } else {
    // Only the partitions a new file can be in: records are partitioned by their own time,
    // which trails their file's arrival by the delivery buffering (and retries).
    const from = state.files_through - deps.config.refresh.late_arrival_hours * 3_600_000;
    const dates: string[] = [];
    for (let t = Date.parse(`${isoDate(from)}T00:00:00Z`); t <= now.getTime() + 86_400_000; t += 86_400_000) dates.push(isoDate(t));
    listed = (await Promise.all(dates.map((d) => deps.store.list(`${base}date=${d}/`)))).flat();
  }
  const recent = new Set(state.recent_files.map((f) => f.key));
  return listed
    .filter((o) => o.key.endsWith('.parquet') && !recent.has(o.key) && o.lastModified.getTime() >= state.files_through - LIST_MARGIN_MS)
    .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || a.key.localeCompare(b.key));
}

/** The files `repair` listed to read again that are not new anyway, and the listed keys that are gone. */
async function replayFiles(deps: RefreshDeps, endpoint: string, fresh: readonly StoredObject[]): Promise<{ keys: string[]; files: StoredObject[]; gone: string[] }> {
  const keys = await readReplay(deps.store, endpoint);
  if (keys.length === 0) return { keys, files: [], gone: [] };
  const partitions = [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/') + 1)))];
  const listed = (await Promise.all(partitions.map((p) => deps.store.list(p)))).flat();
  const wanted = new Set(keys);
  const isNew = new Set(fresh.map((f) => f.key));
  const found = listed.filter((o) => wanted.has(o.key));
  const present = new Set(found.map((o) => o.key));
  return { keys, files: found.filter((o) => !isNew.has(o.key)), gone: keys.filter((k) => !present.has(k) && !isNew.has(k)) };
}

/**
 * Cuts files, in order, into tasks of at most `maxFiles` files and `maxBytes` bytes; a file
 * larger than `maxBytes` makes a task of its own.
 */
export function taskGroups<F extends { readonly size: number }>(files: readonly F[], maxFiles: number, maxBytes: number): F[][] {
  const groups: F[][] = [];
  let current: F[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= maxFiles || bytes + file.size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * Step 1: lists the payload files each endpoint has that no run processed, groups them into
 * tasks, and writes each task's file list to the store.
 */
export async function planRefresh(deps: RefreshDeps, input: RefreshInput): Promise<RefreshPlan> {
  const now = deps.now?.() ?? new Date();
  const runId = `${now.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
  const known = capturedEndpoints(deps.config);
  const wanted = input.endpoints?.length ? [...input.endpoints] : known;
  const unknown = wanted.filter((e) => !known.includes(e));
  if (unknown.length > 0) throw new Error(`Unknown endpoint ${unknown.join(', ')}; configured: ${known.join(', ')}`);
  const { files_per_task: perTask, mib_per_task: mibPerTask, max_tasks_per_run: maxTasks } = deps.config.refresh;
  const endpoints: EndpointRun[] = [];
  const tasks: UnpackTask[] = [];
  for (const endpoint of wanted) {
    const state = await readEndpointState(deps.store, endpoint);
    const fresh = await newPayloadFiles(deps, state, now);
    const replay = await replayFiles(deps, endpoint, fresh);
    // Files to read again first (they are behind the watermark, so they do not move it).
    const all = [...replay.files, ...fresh];
    const groups = taskGroups(all, perTask, mibPerTask * 2 ** 20).slice(0, Math.max(0, maxTasks - tasks.length));
    // Files are in watermark order, so the files taken are a prefix of them and the rest wait.
    const files = groups.flat();
    const prefix = runPrefix(runId, endpoint);
    let count = 0;
    for (const group of groups) {
      const task = String(count++).padStart(5, '0');
      const manifest = `${prefix}tasks/${task}.json`;
      await writeJson(deps.store, manifest, { files: group });
      tasks.push({ run_id: runId, endpoint, task, manifest });
    }
    // The watermark this run moves to once its commit succeeds.
    const through = files.length > 0 ? Math.max(state.files_through, ...files.map((f) => f.lastModified.getTime())) : state.files_through;
    const recent = [...state.recent_files, ...files.map((f) => ({ key: f.key, t: f.lastModified.getTime() }))].filter((f) => f.t >= through - LIST_MARGIN_MS);
    const taken = new Set(files.map((f) => f.key));
    // Done once this run succeeds: the listed files it reads (as new or again), and those gone.
    const gone = new Set(replay.gone);
    const replayed = replay.keys.filter((k) => taken.has(k) || gone.has(k));
    await writeJson(deps.store, `${prefix}plan.json`, { files_through: through, recent_files: recent, replayed });
    endpoints.push({ run_id: runId, started_at: now.toISOString(), endpoint, files: files.length, tasks: count, backlog: all.length - files.length });
  }
  return { run_id: runId, started_at: now.toISOString(), endpoints, tasks };
}
