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
  },
});
