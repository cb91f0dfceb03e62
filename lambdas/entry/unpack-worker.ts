import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../core/config/index.js';
import { bindSteps } from '../workflow/registry.js';
import { localRefreshDependencies } from '../wiring/local-refresh.js';

/**
 * Entry of a worker thread of the local runner's unpack pool: runs the UnpackTask step, the
 * function the deployed UnpackTask Lambda exports, over the local data folder.
 */
const { config, dataDir } = workerData as { config: Config; dataDir: string };
const unpack = bindSteps(localRefreshDependencies(config, dataDir)).UnpackTask;
const port = parentPort;
if (!port) throw new Error('unpack-worker runs as a worker thread of the local refresh runner');

port.on('message', (message: { id: number; task: unknown }) => {
  unpack(message.task).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: message.id, error: { name: e.name, message: e.message } });
    },
  );
});
