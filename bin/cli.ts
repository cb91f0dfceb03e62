import { runCli } from '../lambdas/cli/main.js';
import { localRefreshDefinition } from '../lib/refresh-definition.js';

// The entry point composes what runs locally from the infrastructure's own definitions.
process.exitCode = await runCli(process.argv, { refreshDefinition: localRefreshDefinition });
