import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { UserFacingError } from '../../shared/errors.js';

/**
 * Which files of a local payload table a reader sees. Compaction replaces many small files
 * of a partition with one, and two file operations cannot be one: so the compacted file's
 * manifest, written before the file appears, names the files it replaces. Once the compacted
 * file is in its partition (one rename: the commit), readers leave its sources out; the
 * sources are deleted later, after a grace period, so a reader that listed the folder just
 * before the commit can still open them. No reader sees a row twice or misses one.
 */

/** Folder of a payload table that holds the compaction manifests (Hive and Athena skip `_` folders). */
export const COMPACTION_DIR = '_compaction';
/** Compacted files are named `compacted-<id>.parquet`. */
export const COMPACTED_PREFIX = 'compacted-';

/** The manifest of one compacted file. */
export const compactionManifestSchema = z.strictObject({
  version: z.literal(1),
  /** The partition, `endpoint=<e>/date=<d>`. */
  partition: z.string().regex(/^endpoint=[^/]+\/date=\d{4}-\d{2}-\d{2}$/),
  /** The compacted file's name in the partition. */
  file: z.string().startsWith(COMPACTED_PREFIX),
  /** Names (in the partition) of the files it replaces. */
  sources: z.array(z.string()).min(1),
  rows: z.number().int().min(0),
  created_at: z.string(),
});
export type CompactionManifest = z.infer<typeof compactionManifestSchema>;

/** A manifest that cannot be read: which files it hides is unknown, so the table cannot be read without rows twice. */
export class CompactionManifestError extends UserFacingError {
  public constructor(path: string, cause: unknown) {
    super(
      `The compaction manifest ${path} cannot be read (${(cause as Error).message.slice(0, 200)}): the files its compacted file replaces are unknown. ` +
        `Run 'inference-tables doctor' to see the table's state, or delete the manifest and its compacted file if the replaced files are still present.`,
      { cause },
    );
    this.name = 'CompactionManifestError';
  }
}

/** A file of a payload table, by its path under the table's folder (`endpoint=…/date=…/name.parquet`). */
export interface PayloadFile {
  readonly path: string;
  readonly partition: string;
  readonly name: string;
}

/** Every Parquet file of a table's partitions, visible or not, in path order. */
export function listPartitionFiles(tableDir: string): PayloadFile[] {
  if (!existsSync(tableDir)) return [];
  const out: PayloadFile[] = [];
  for (const endpoint of readdirSync(tableDir, { withFileTypes: true })) {
    if (!endpoint.isDirectory() || !endpoint.name.startsWith('endpoint=')) continue;
    for (const date of readdirSync(join(tableDir, endpoint.name), { withFileTypes: true })) {
      if (!date.isDirectory() || !date.name.startsWith('date=')) continue;
      const partition = `${endpoint.name}/${date.name}`;
      for (const file of readdirSync(join(tableDir, endpoint.name, date.name), { withFileTypes: true })) {
        if (file.isFile() && file.name.endsWith('.parquet') && !file.name.startsWith('.')) out.push({ path: `${partition}/${file.name}`, partition, name: file.name });
      }
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The manifests of a table's compactions, by file name (`<id>.json`). */
export function readManifests(tableDir: string): Map<string, CompactionManifest> {
  const dir = join(tableDir, COMPACTION_DIR);
  const out = new Map<string, CompactionManifest>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const path = join(dir, name);
    try {
      out.set(name, compactionManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8'))));
    } catch (error) {
      throw new CompactionManifestError(path, error);
    }
  }
  return out;
}

/**
 * The files of a table a reader sees, or undefined when the table has no compaction (every
 * file is seen: a glob reads it). The listing is taken before the manifests are read, so a
 * compaction that commits in between is either wholly seen or not at all.
 */
export function visiblePayloadFiles(tableDir: string): PayloadFile[] | undefined {
  if (!existsSync(join(tableDir, COMPACTION_DIR))) return undefined;
  const files = listPartitionFiles(tableDir);
  const present = new Set(files.map((f) => f.path));
  const hidden = new Set<string>();
  for (const manifest of readManifests(tableDir).values()) {
    // A manifest whose file is not in the listing is a compaction not committed (or undone).
    if (!present.has(`${manifest.partition}/${manifest.file}`)) continue;
    for (const source of manifest.sources) hidden.add(`${manifest.partition}/${source}`);
  }
  return files.filter((f) => !hidden.has(f.path));
}

/** The absolute paths of a payload table's visible files, or undefined when a glob reads them all. */
export function visiblePayloadPaths(tableDir: string): string[] | undefined {
  return visiblePayloadFiles(tableDir)?.map((f) => join(tableDir, ...f.path.split('/')));
}

/** Modification time (epoch ms) and size of a file of the table. */
export function fileInfo(tableDir: string, file: PayloadFile): { mtimeMs: number; ctimeMs: number; size: number } {
  const info = statSync(join(tableDir, ...file.path.split('/')));
  return { mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, size: info.size };
}
