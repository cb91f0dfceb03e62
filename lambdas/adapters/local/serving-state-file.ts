import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ServingState, type ServingStateStore, StateConflictError, servingStateSchema } from '../../core/serving-state.js';
import { replaceFileDurably } from './durable-fs.js';
import { type LockHolder, PidLock } from './pid-lock.js';

/** Folder of the serving state in the data folder. */
export const SERVING_DIR = '_serving';
const LOCK_WAIT_MS = 5_000;

/** The last write of each state file in this process, so writes queue instead of racing. */
const inProcess = new Map<string, Promise<void>>();

/** The serving state file cannot be read: it names the file and the fix. */
export class ServingStateFileError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServingStateFileError';
  }
}

/**
 * The serving state in the data folder (`_serving/state.json`), written whole through a
 * synced temporary file. A write holds a lock file created exclusively (naming its process, so
 * one left by a process that died is taken over), so the server and the CLI changing the state
 * at once cannot lose one of the changes: the second is refused as a conflict.
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

  public save(next: ServingState, expected: number | undefined): Promise<void> {
    // One write at a time in this process (the lock file orders processes).
    const previous = inProcess.get(this.path) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.write(next, expected));
    inProcess.set(this.path, write);
    return write;
  }

  private async write(next: ServingState, expected: number | undefined): Promise<void> {
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
        // Held by a process id: a lock left by a process that died is taken over, a live holder waited for.
        const lock = await PidLock.acquire(path, (holder) => new LockBusy(holder));
        return () => lock.release();
      } catch (error) {
        if (!(error instanceof LockBusy)) throw error;
        if (Date.now() > deadline) {
          const who = error.holder === 'this process' ? 'this process' : `process ${error.holder.pid}`;
          throw new ServingStateFileError(`The serving state is locked by ${who} (${path}); retry.`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

class LockBusy extends Error {
  public constructor(public readonly holder: LockHolder) {
    super('the serving state is locked');
  }
}
