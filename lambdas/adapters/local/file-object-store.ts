import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectReader, ObjectStore, StoredObject } from '../../core/ports.js';
import { replaceFileDurably } from './durable-fs.js';

/** The object store of the local stack: keys are paths under the data folder. */
export class FileObjectStore implements ObjectStore {
  /**
   * @param options.durable sync each object and its folder before `put` resolves: for the
   *   spill, whose records exist nowhere else; the refresh's staged files are written again by
   *   a rerun, so they skip the cost
   */
  public constructor(
    private readonly root: string,
    private readonly options: { readonly durable?: boolean } = {},
  ) {}

  private path(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`Invalid object key '${key}'`);
    return join(this.root, ...key.split('/'));
  }

  public async list(prefix: string): Promise<StoredObject[]> {
    // List the deepest folder the prefix names, then filter by the rest of it.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const dir = this.path(folder);
    if (!existsSync(dir)) return [];
    const out: StoredObject[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      const full = join(entry.parentPath, entry.name);
      const key = relative(this.root, full).split(sep).join('/');
      if (!key.startsWith(prefix) || key.split('/').some((p) => p.startsWith('.'))) continue;
      const info = await stat(full);
      out.push({ key, size: info.size, lastModified: info.mtime });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  public async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  public reader(object: StoredObject): ObjectReader {
    const path = this.path(object.key);
    return {
      byteLength: object.size,
      slice: async (start, end) => {
        const handle = await open(path, 'r');
        try {
          const length = (end ?? object.size) - start;
          const buffer = Buffer.alloc(length);
          await handle.read(buffer, 0, length, start);
          return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + length) as ArrayBuffer;
        } finally {
          await handle.close();
        }
      },
    };
  }

  /** Writes whole or not at all: a temporary file renamed into place. */
  public async put(key: string, body: Uint8Array | string): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${randomUUID()}.tmp`);
    if (this.options.durable) {
      await replaceFileDurably(path, tmp, body);
      return;
    }
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  public async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.path(k), { force: true })));
  }

  public location(prefix: string): string {
    return this.path(prefix);
  }
}
