import { defineConfig } from 'vitest/config';

// Socket-heavy suites: forks isolate each file's clusters, listeners and child processes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
