import { runCli } from '../lambdas/cli/main.js';

// The entry point composes what runs locally from the infrastructure's own definitions; the
// refresh definition (aws-cdk-lib, about 0.4 s to load) only for the commands that run one.
process.exitCode = await runCli(process.argv, { refreshDefinition: async () => (await import('../lib/refresh-definition.js')).localRefreshDefinition });
