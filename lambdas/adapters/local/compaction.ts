import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parquetColumns } from '../../core/capture-record.js';
import { sqlIdent, sqlString } from './duckdb.js';
import { syncDir, syncFile, writeFileDurably } from './durable-fs.js';
import {
  COMPACTED_PREFIX,
  COMPACTION_DIR,
  type CompactionManifest,
  type PayloadFile,
  fileInfo,
  listPartitionFiles,
  readManifests,
  visiblePayloadFiles,
} from './payload-files.js';

/** How one table is compacted. */
export interface CompactionOptions {
  /** Whether a file may be compacted, by its partition's endpoint and modification time: only files every reader has consumed. */
  readonly eligible: (endpoint: string, mtimeMs: number) => boolean;
  /** Replaced files are deleted this long after the commit, so a reader that listed them can still open them. */
  readonly graceMs: number;
  /** A compacted file is not merged again once it is this large. */
  readonly targetBytes: number;
  readonly now?: () => number;
  /** Awaited at each step of a partition's compaction (progress; a crash test stops the process there). */
  readonly onStage?: (stage: CompactionStage, partition: string) => void | Promise<void>;
}

/**
 * The steps of a compaction: the manifest is written, the compacted file is written (not yet
 * seen), the file is committed (its sources hidden, still present), a replaced file is deleted.
 */
export type CompactionStage = 'manifest' | 'written' | 'committed' | 'deleted';

/** What a compaction of one table did. */
export interface CompactionReport {
  readonly table: string;
  /** Partitions given a new compacted file. */
  readonly partitions: number;
  /** Files replaced, and rows they held. */
  readonly replaced: number;
  readonly rows: number;
  /** Replaced files deleted after their grace period (of this or an earlier run). */
  readonly deleted: number;
  /** Files left as they are because they cannot be read (the refresh quarantines them). */
  readonly unreadable: readonly string[];
}

const manifestName = (id: string) => `${id}.json`;

/**
 * Compacts a local payload table: in each partition, the small files readers have consumed
 * become one file, sorted by time, with the table's current columns (older files gain the
 * columns added since, as NULL). The compacted file keeps the newest modification time of the
 * files it replaces, so the refresh, which reads files by modification time, does not read
 * its rows again. One compaction at a time per data folder (the caller holds the lock).
 *
 * Crash safety: the manifest is written before the file appears (a manifest without its file
 * is a compaction that did not happen, removed here); the rename is the commit; replaced files
 * are deleted by a later run, once the grace period has passed.
 */
export async function compactTable(db: DuckDBConnection, dataDir: string, table: string, options: CompactionOptions): Promise<CompactionReport> {
  const tableDir = join(dataDir, table);
  const now = options.now?.() ?? Date.now();
  const deleted = await collectGarbage(tableDir, now, options);
  const visible = visiblePayloadFiles(tableDir) ?? listPartitionFiles(tableDir);
  const manifests = readManifests(tableDir);
  // A compacted file whose own replaced files are still there is not merged again: its manifest must keep hiding them.
  const pending = new Set<string>();
  const present = new Set(listPartitionFiles(tableDir).map((f) => f.path));
  for (const m of manifests.values()) {
    if (m.sources.some((s) => present.has(`${m.partition}/${s}`))) pending.add(`${m.partition}/${m.file}`);
  }
  const byPartition = new Map<string, PayloadFile[]>();
  for (const f of visible) byPartition.set(f.partition, [...(byPartition.get(f.partition) ?? []), f]);
  let partitions = 0;
  let replaced = 0;
  let rows = 0;
  const unreadable: string[] = [];
  for (const [partition, files] of byPartition) {
    const endpoint = partition.slice('endpoint='.length, partition.indexOf('/'));
    const candidates = files
      .map((f) => ({ file: f, ...fileInfo(tableDir, f) }))
      .filter((f) => options.eligible(endpoint, f.mtimeMs) && !pending.has(f.file.path) && !(f.file.name.startsWith(COMPACTED_PREFIX) && f.size >= options.targetBytes));
    const readable: typeof candidates = [];
    for (const c of candidates) {
      if (await opens(db, join(tableDir, ...c.file.path.split('/')))) readable.push(c);
      else unreadable.push(c.file.path);
    }
    if (readable.length < 2) continue;
    rows += await compactPartition(db, tableDir, partition, readable, options);
    partitions += 1;
    replaced += readable.length;
  }
  return { table, partitions, replaced, rows, deleted, unreadable };
}

async function opens(db: DuckDBConnection, path: string): Promise<boolean> {
  try {
    await db.run(`SELECT 1 FROM parquet_metadata(${sqlString(path)}) LIMIT 1`);
    return true;
  } catch {
    return false;
  }
}

/** Writes the partition's compacted file and commits it; returns its rows. */
async function compactPartition(
  db: DuckDBConnection,
  tableDir: string,
  partition: string,
  files: readonly { file: PayloadFile; mtimeMs: number }[],
  options: CompactionOptions,
): Promise<number> {
  const id = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
  const name = `${COMPACTED_PREFIX}${id}.parquet`;
  const workDir = join(tableDir, COMPACTION_DIR);
  await mkdir(workDir, { recursive: true });
  const source = `read_parquet([${files.map((f) => sqlString(join(tableDir, ...f.file.path.split('/')))).join(', ')}], union_by_name = true, hive_partitioning = false)`;
  const present = new Set(((await db.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson() as { column_name: string }[]).map((r) => r.column_name));
  // Files of earlier releases lack the columns added since: they read as NULL, as Athena reads them.
  const columns = parquetColumns().map((c) => `${present.has(c.name) ? `CAST(${sqlIdent(c.name)} AS ${c.duckdbType})` : `CAST(NULL AS ${c.duckdbType})`} AS ${sqlIdent(c.name)}`);
  const count = Number((await db.runAndReadAll(`SELECT count(*) FROM ${source}`)).getRows()[0]?.[0] ?? 0);
  const manifest: CompactionManifest = { version: 1, partition, file: name, sources: files.map((f) => f.file.name), rows: count, created_at: new Date().toISOString() };
  await writeFileDurably(join(workDir, manifestName(id)), JSON.stringify(manifest));
  await options.onStage?.('manifest', partition);
  const partial = join(workDir, `${id}.parquet.tmp`);
  await db.run(`COPY (SELECT ${columns.join(', ')} FROM ${source} ORDER BY timestamp_ms, request_id) TO ${sqlString(partial)} (FORMAT parquet, COMPRESSION snappy)`);
  await syncFile(partial);
  const newest = Math.max(...files.map((f) => f.mtimeMs));
  await utimes(partial, new Date(), new Date(newest));
  await options.onStage?.('written', partition);
  const target = join(tableDir, ...partition.split('/'), name);
  await rename(partial, target);
  await syncDir(join(tableDir, ...partition.split('/')));
  await options.onStage?.('committed', partition);
  return count;
}

/**
 * Deletes what committed compactions replaced once their grace period is over, then the
 * manifests whose compacted file is gone (replaced in turn, or expired), and the leftovers of
 * compactions a crash interrupted. Returns the files deleted.
 */
async function collectGarbage(tableDir: string, now: number, options: CompactionOptions): Promise<number> {
  const workDir = join(tableDir, COMPACTION_DIR);
  if (!existsSync(workDir)) return 0;
  const manifests = readManifests(tableDir);
  let deleted = 0;
  const touched = new Set<string>();
  for (const m of manifests.values()) {
    const compacted = join(tableDir, ...m.partition.split('/'), m.file);
    const committed = await stat(compacted).catch(() => undefined);
    // The rename that committed the compaction set the file's change time.
    if (!committed || now - committed.ctimeMs < options.graceMs) continue;
    for (const s of m.sources) {
      const path = join(tableDir, ...m.partition.split('/'), s);
      if (!existsSync(path)) continue;
      await rm(path, { force: true });
      touched.add(join(tableDir, ...m.partition.split('/')));
      deleted += 1;
      await options.onStage?.('deleted', m.partition);
    }
  }
  for (const d of touched) await syncDir(d);
  // Deleted sources may have been compacted files themselves: their manifests go now.
  for (const [file, m] of manifests) {
    if (!existsSync(join(tableDir, ...m.partition.split('/'), m.file))) await rm(join(workDir, file), { force: true });
  }
  for (const name of await readdir(workDir)) {
    if (name.endsWith('.parquet.tmp')) await rm(join(workDir, name), { force: true });
  }
  return deleted;
}
