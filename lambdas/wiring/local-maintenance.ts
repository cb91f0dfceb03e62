import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CompactionOptions, type CompactionReport, compactTable } from '../adapters/local/compaction.js';
import { openDuckDb } from '../adapters/local/duckdb.js';
import { FileObjectStore } from '../adapters/local/file-object-store.js';
import { PidLock } from '../adapters/local/pid-lock.js';
import { type RetentionReport, applyLocalRetention } from '../adapters/local/retention.js';
import { type Config, retentionDays } from '../core/config/index.js';
import { UserFacingError } from '../shared/errors.js';
import { type EndpointState, LIST_MARGIN_MS, readJson, stateKey } from '../workflow/steps.js';

/** Maintenance could not run: the folder is busy with a refresh or another maintenance run. */
export class MaintenanceBusyError extends UserFacingError {
  public constructor(message: string) {
    super(message);
    this.name = 'MaintenanceBusyError';
  }
}

/** What a maintenance run did. */
export interface MaintenanceReport {
  readonly compaction: CompactionReport[];
  readonly retention: RetentionReport;
}

/** Options of a local maintenance run. */
export interface MaintenanceOptions {
  readonly config: Config;
  readonly dataDir: string;
  /** Overrides `local.compact_grace_minutes` (0: replaced files go at the next run). */
  readonly graceMs?: number;
  readonly now?: () => number;
  /** Awaited at each step of a compaction (progress; the crash test stops the process there). */
  readonly onStage?: CompactionOptions['onStage'];
}

/**
 * The local maintenance run (`inference-tables compact`, and the server's schedule): applies
 * the retention, then compacts every payload table, in files the refresh has consumed only (a
 * file is eligible once it is older than the endpoint's watermark less the listing margin, or,
 * for a table no refresh reads, older than the margin). It holds the data folder's refresh
 * lock, so a refresh and a compaction never overlap.
 * @throws MaintenanceBusyError when a refresh or another maintenance run holds the folder
 */
export async function runLocalMaintenance(options: MaintenanceOptions): Promise<MaintenanceReport> {
  const { config, dataDir } = options;
  const now = options.now ?? Date.now;
  if (!existsSync(dataDir)) return { compaction: [], retention: { payload: [], labels: [], quarantine: [] } };
  const lock = await PidLock.acquire(join(dataDir, '.refresh.lock'), (holder) =>
    new MaintenanceBusyError(`A refresh or compaction is running on ${dataDir} (${holder === 'this process' ? 'in this process' : `process ${holder.pid}`}); try again when it ends`),
  );
  try {
    const retention = await applyLocalRetention(dataDir, retentionDays(config), now());
    const store = new FileObjectStore(dataDir);
    const watermarks = new Map<string, number | undefined>();
    const watermark = async (endpoint: string) => {
      if (!watermarks.has(endpoint)) watermarks.set(endpoint, (await readJson<EndpointState>(store, stateKey(endpoint)))?.files_through);
      return watermarks.get(endpoint);
    };
    const tables = (await readdir(dataDir, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name.endsWith('_payload')).map((e) => e.name);
    for (const table of tables) {
      const dir = join(dataDir, table);
      for (const e of await readdir(dir)) if (e.startsWith('endpoint=')) await watermark(e.slice('endpoint='.length));
    }
    const { instance, connection } = await openDuckDb();
    const compaction: CompactionReport[] = [];
    try {
      for (const table of tables.sort()) {
        const report = await compactTable(connection, dataDir, table, {
          eligible: (endpoint, mtimeMs) => mtimeMs < (watermarks.get(endpoint) ?? now()) - LIST_MARGIN_MS,
          graceMs: options.graceMs ?? config.local.compact_grace_minutes * 60_000,
          targetBytes: config.local.compact_target_mib * 2 ** 20,
          now,
          onStage: options.onStage,
        });
        compaction.push(report);
      }
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    return { compaction, retention };
  } finally {
    await lock.release();
  }
}
