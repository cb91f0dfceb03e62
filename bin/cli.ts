import { runCli } from '../lambdas/cli/main.js';

process.exitCode = await runCli(process.argv);
