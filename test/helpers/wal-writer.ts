/**
 * A process that writes to the local delivery stream until it is killed: `tsx
 * wal-writer.ts DIR PREFIX`. Prints `ACK <id>` once each put resolves, so the parent knows
 * which records were acknowledged when it sends SIGKILL.
 */
import { LocalDeliveryStream } from '../../lambdas/adapters/local/delivery-stream.js';
import { setLogLevel } from '../../lambdas/core/log.js';
import { sample } from './records.js';

setLogLevel('warn');
const [dir, prefix] = process.argv.slice(2) as [string, string];
// A small buffer, so that kills land during Parquet deliveries as well as during writes.
const stream = await LocalDeliveryStream.open({ dataDir: dir, bufferIntervalMs: 0, bufferSizeBytes: 8192 });
let n = 0;
const writer = async (): Promise<void> => {
  for (;;) {
    const id = `${prefix}-${n++}`;
    await stream.put([{ ...sample, request_id: id }]);
    process.stdout.write(`ACK ${id}\n`);
  }
};
await Promise.all(Array.from({ length: 8 }, writer));
