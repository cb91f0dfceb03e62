import { readFile, rm } from 'node:fs/promises';
import { writeFileDurably } from './durable-fs.js';

/** Lock files this process holds. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Who holds a lock: a process by id, or another holder in this process. */
export type LockHolder = { readonly pid: number } | 'this process';

/**
 * A lock file holding the owner's process id: taken by creating the file, so two processes
 * cannot both take it; a lock left by a process that died (`kill -9`) is taken over. The
 * local delivery stream holds one on its staging folder, a local refresh run one on the data
 * folder.
 */
export class PidLock {
  private constructor(private readonly path: string) {}

  /**
   * Takes the lock at `path`.
   * @param busy the error to throw when a live holder has it
   */
  public static async acquire(path: string, busy: (holder: LockHolder) => Error): Promise<PidLock> {
    if (held.has(path)) throw busy('this process');
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFileDurably(path, `${process.pid}\n`);
        held.add(path);
        return new PidLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw busy({ pid });
        // Left by a process that is gone (or by this one, before a crash of its own).
        await rm(path, { force: true });
      }
    }
  }

  /** Gives the lock up. */
  public async release(): Promise<void> {
    held.delete(this.path);
    await rm(this.path, { force: true });
  }
}
