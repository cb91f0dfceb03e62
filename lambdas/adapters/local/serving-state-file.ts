import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ServingState, type ServingStateStore, StateConflictError, servingStateSchema } from '../../core/serving-state.js';
import { replaceFileDurably } from './durable-fs.js';

/** Folder of the serving state in the data folder. */
export const SERVING_DIR = '_serving';
/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 30_000;
const LOCK_WAIT_MS = 5_000;

/** The serving state file cannot be read: it names the file and the fix. */
export class ServingStateFileError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServingStateFileError';
  }
}

/**
 * The serving state in the data folder (`_serving/state.json`), written whole through a
 * synced temporary file. A write holds a lock file created exclusively, so the server and the
 * CLI changing the state at once cannot lose one of the changes: the second is refused as a
 * conflict, and retried by its caller.
 */
export class FileServingStateStore implements ServingStateStore {
  private readonly dir: string;
  private readonly path: string;

  public constructor(dataDir: string) {
    this.dir = join(dataDir, SERVING_DIR);
    this.path = join(this.dir, 'state.json');
  }

  public async load(): Promise<ServingState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ServingStateFileError(`The serving state ${this.path} is not JSON (${(error as Error).message}). Restore it from a backup, or delete it to serve the configuration file's models and endpoints again.`, { cause: error });
    }
    const parsed = servingStateSchema.safeParse(json);
    if (!parsed.success) {
      throw new ServingStateFileError(`The serving state ${this.path} does not hold a serving state (${parsed.error.issues[0]?.message ?? 'invalid'}). Restore it from a backup, or delete it to serve the configuration file's models and endpoints again.`);
    }
    return parsed.data;
  }

  public async save(next: ServingState, expected: number | undefined): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const release = await this.lock();
    try {
      const stored = await this.load();
      if (stored?.config_version !== expected) throw new StateConflictError(expected);
      await replaceFileDurably(this.path, `${this.path}.${process.pid}.tmp`, `${JSON.stringify(next, null, 2)}\n`);
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const path = join(this.dir, 'state.lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return () => rm(path, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = Date.now() - (await stat(path).then((s) => s.mtimeMs, () => Date.now()));
        if (age > STALE_LOCK_MS) await rm(path, { force: true });
        else if (Date.now() > deadline) throw new ServingStateFileError(`The serving state is locked by another process (${path}); retry, or delete the lock if no inference-tables process is running.`);
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}
