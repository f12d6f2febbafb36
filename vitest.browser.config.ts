// Browser tests (test/browser): Chromium driven by playwright-core against the real server.
// Separate from `npm test` so that the main suite runs without a browser; `npm run test:e2e`
// builds the web app first and runs these. One file at a time: each starts a server and a
// browser, and the machines that run them are small.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
