import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('npm run load', () => {
  it('kills and restarts the server under load and reports every answered request captured and unpacked', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts'), '--requests', '400', '--concurrency', '16', '--kills', '2'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/requests answered \(200\):\s+400\n/);
    expect(run.stdout).toMatch(/rows lost:\s+0\n/);
    expect(run.stdout).toMatch(/answered but not unpacked:\s+0 /);
    expect(run.stdout).toMatch(/server starts \/ kills:\s+3 \/ 2\n/);
  }, 150_000);

  it('names a bad option and exits 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts'), '--requests', 'many'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("load: --requests must be a whole number from 1 to 1000000 (got 'many').");
    const unknown = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts'), '--fast'], { cwd: ROOT, encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^load: Unknown option '--fast'/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);
  });
});
