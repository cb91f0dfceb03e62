/**
 * A compaction that stops at one of its steps and waits to be killed: `tsx compact-child.ts
 * DIR STAGE GRACE_MS`. Prints `AT <stage>` when it gets there, so the parent sends SIGKILL
 * at that exact point; prints `DONE` if the stage never comes.
 */
import { setLogLevel } from '../../lambdas/core/log.js';
import { runLocalMaintenance } from '../../lambdas/wiring/local-maintenance.js';
import { demoConfig } from './config.js';

setLogLevel('warn');
const [dir, stage, grace] = process.argv.slice(2) as [string, string, string];
await runLocalMaintenance({
  config: demoConfig(),
  dataDir: dir,
  graceMs: Number(grace),
  onStage: async (s) => {
    if (s !== stage) return;
    process.stdout.write(`AT ${s}\n`);
    await new Promise(() => undefined);
  },
});
process.stdout.write('DONE\n');
