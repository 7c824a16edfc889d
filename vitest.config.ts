import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Socket-heavy suites: forks isolate each file's clusters, listeners and child processes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
    // `knet up` merges its context into the user's kubeconfig (as kind does): every test that
    // runs it, and the kubectl it starts, use a kubeconfig of this run instead of ~/.kube/config.
    env: { KUBECONFIG: path.join(os.tmpdir(), `knet-test-kubeconfig-${process.pid}`, 'config') },
  },
});
