import { runCli } from '../../lambdas/cli/main.js';
import { localRefreshDefinition } from '../../lib/refresh-definition.js';

/** Runs the command line in process, capturing stdout, stderr and the exit code. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => ((err += chunk), true)) as typeof process.stderr.write;
  try {
    const code = await runCli(['node', 'inference-tables', ...args], { refreshDefinition: async () => localRefreshDefinition }, (t) => (out += t));
    return { code, out, err };
  } finally {
    process.stderr.write = write;
  }
}
