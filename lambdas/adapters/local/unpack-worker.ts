import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../../core/config/index.js';
import { type RefreshDeps, type UnpackTask, unpackTask } from '../../workflow/steps.js';
import { FileObjectStore } from './file-object-store.js';

/**
 * A worker thread of the local runner's unpack pool: runs `unpackTask`, the function the
 * deployed UnpackTask Lambda exports, on the local object store.
 */
const { config, dataDir } = workerData as { config: Config; dataDir: string };
const deps: RefreshDeps = { config, store: new FileObjectStore(dataDir), dialect: 'duckdb' };
const port = parentPort;
if (!port) throw new Error('unpack-worker runs as a worker thread of the local refresh runner');

port.on('message', (message: { id: number; task: UnpackTask }) => {
  unpackTask(deps, message.task).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: message.id, error: { name: e.name, message: e.message } });
    },
  );
});
