// The global-setup example as its own vitest project:
//   npx vitest run --config examples/testing/global-setup/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../..', import.meta.url)),
    include: ['examples/testing/global-setup/**/*.spec.ts'],
    globalSetup: ['examples/testing/global-setup/global-setup.ts'],
    pool: 'forks',
    hookTimeout: 60_000,
  },
});
