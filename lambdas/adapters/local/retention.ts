import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { QUARANTINE_PREFIX } from '../../core/names.js';
import type { RetainedKind } from '../../core/config/index.js';
import { ERROR_OUTPUT_DIR } from './parquet-delivery.js';

/** What the local retention removed, by kind: partition folders or files, relative to the data folder. */
export type RetentionReport = Record<'payload' | 'labels' | 'quarantine', string[]>;

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the first day kept when `days` are kept. */
function firstKept(now: number, days: number): string {
  return new Date(now - days * DAY_MS).toISOString().slice(0, 10);
}

/** Removes the `<key>=<date>` folders under `dir` (at `depth` levels) dated before `from`. */
async function removeDatedFolders(dataDir: string, dir: string, key: string, from: string, depth: number): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (depth > 1) removed.push(...(await removeDatedFolders(dataDir, path, key, from, depth - 1)));
    else if (entry.name.startsWith(`${key}=`) && entry.name.slice(key.length + 1) < from) {
      await rm(path, { recursive: true, force: true });
      removed.push(relative(dataDir, path).split(sep).join('/'));
    }
  }
  return removed;
}

/**
 * Applies the configured retention to the plain files of the data folder, as the S3 lifecycle
 * rules do on AWS: payload partitions and delivery errors dated before the payload retention,
 * labels uploaded before the labels retention, quarantined files older than the quarantine
 * retention. (The unpacked and metrics tables are trimmed by the refresh, in both worlds.)
 */
export async function applyLocalRetention(dataDir: string, days: Record<RetainedKind, number>, now = Date.now()): Promise<RetentionReport> {
  const report: RetentionReport = { payload: [], labels: [], quarantine: [] };
  if (!existsSync(dataDir)) return report;
  const payloadFrom = firstKept(now, days.payload);
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    if (entry.name.endsWith('_payload')) report.payload.push(...(await removeDatedFolders(dataDir, join(dataDir, entry.name), 'date', payloadFrom, 2)));
    if (entry.name.endsWith('_labels')) report.labels.push(...(await removeDatedFolders(dataDir, join(dataDir, entry.name), 'uploaded', firstKept(now, days.labels), 1)));
  }
  report.payload.push(...(await removeDatedFolders(dataDir, join(dataDir, ERROR_OUTPUT_DIR), 'date', payloadFrom, 1)));
  const quarantine = join(dataDir, QUARANTINE_PREFIX.replace(/\/$/, ''));
  if (existsSync(quarantine)) {
    for (const entry of await readdir(quarantine, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      if ((await stat(path)).mtimeMs < now - days.quarantine * DAY_MS) {
        await rm(path, { force: true });
        report.quarantine.push(relative(dataDir, path).split(sep).join('/'));
      }
    }
  }
  return report;
}
