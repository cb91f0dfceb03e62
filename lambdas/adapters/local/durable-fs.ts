import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/*
 * Writes that survive a crash of the process or of the machine: data synced before the
 * name that points at it, and the folder synced after a name is created or changed.
 */

async function syncPath(path: string): Promise<void> {
  // Read-only is enough for fsync, on a folder as on a file.
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Syncs a folder, so that a file created or renamed in it survives a crash. */
export function syncDir(dir: string): Promise<void> {
  return syncPath(dir);
}

/** Syncs a file's data to disk. */
export function syncFile(path: string): Promise<void> {
  return syncPath(path);
}

/** Writes a new file and syncs it and its folder before resolving. */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dirname(path));
}

/** Writes `path` whole or not at all, through a synced temporary file renamed over it. */
export async function replaceFileDurably(path: string, tmp: string, data: string | Uint8Array): Promise<void> {
  await writeFileDurably(tmp, data);
  await rename(tmp, path);
  await syncDir(dirname(path));
}
