import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Config } from '../../core/config/index.js';
import type { UnpackTask } from '../../core/refresh-steps.js';

/** What an unpack task returns (its counts), passed through as the state's output. */
type UnpackResult = unknown;

/** The worker thread's entry (`lambdas/entry/unpack-worker.ts`, loaded through tsx). */
const WORKER = new URL('../../entry/unpack-worker.mjs', import.meta.url);

/**
 * Runs the Unpack map's tasks on every core, as the deployed Distributed Map runs them in
 * parallel Lambdas: unpacking is JavaScript, so tasks in one thread would take turns. The
 * first task in flight runs on the calling thread (a run with one task starts no worker);
 * each further one runs in a worker thread, started when first needed and reused.
 */
export class UnpackPool {
  private readonly size: number;
  private readonly idle: Worker[] = [];
  private readonly workers: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, { worker: Worker; resolve: (r: UnpackResult) => void; reject: (e: Error) => void }>();
  private mainBusy = false;
  private nextId = 0;

  /**
   * @param inProcess runs a task on the calling thread
   * @param threads tasks run at once, the calling thread included (default: the cores)
   */
  public constructor(
    private readonly inProcess: (task: UnpackTask) => Promise<UnpackResult>,
    private readonly context: { readonly config: Config; readonly dataDir: string },
    threads = availableParallelism(),
  ) {
    this.size = Math.max(0, threads - 1);
  }

  /** Runs one task when a thread is free. */
  public async run(task: UnpackTask): Promise<UnpackResult> {
    for (;;) {
      if (!this.mainBusy) {
        this.mainBusy = true;
        try {
          return await this.inProcess(task);
        } finally {
          this.mainBusy = false;
          this.waiting.shift()?.();
        }
      }
      const worker = this.idle.pop() ?? (this.workers.length < this.size ? this.start() : undefined);
      if (worker) {
        try {
          return await this.send(worker, task);
        } finally {
          if (this.workers.includes(worker)) this.idle.push(worker);
          this.waiting.shift()?.();
        }
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Stops the workers. */
  public async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    this.idle.length = 0;
  }

  private start(): Worker {
    const worker = new Worker(WORKER, { workerData: this.context });
    worker.on('message', (m: { id: number; result?: UnpackResult; error?: { name: string; message: string } }) => {
      const call = this.pending.get(m.id);
      if (!call) return;
      this.pending.delete(m.id);
      if (m.error) call.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
      else call.resolve(m.result as UnpackResult);
    });
    // A worker that dies fails its tasks (the map retries them) and is not reused.
    worker.on('error', (error) => this.lose(worker, error));
    worker.on('exit', (code) => this.lose(worker, new Error(`unpack worker exited with code ${code}`)));
    worker.unref();
    this.workers.push(worker);
    return worker;
  }

  private lose(worker: Worker, error: Error): void {
    for (const list of [this.workers, this.idle]) {
      const at = list.indexOf(worker);
      if (at >= 0) list.splice(at, 1);
    }
    for (const [id, call] of this.pending) {
      if (call.worker !== worker) continue;
      this.pending.delete(id);
      call.reject(error);
    }
  }

  private send(worker: Worker, task: UnpackTask): Promise<UnpackResult> {
    const id = this.nextId++;
    return new Promise<UnpackResult>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, task });
    });
  }
}
