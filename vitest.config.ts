import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration and e2e suites start servers and ffmpeg: two cores, so keep files modest in parallel.
    maxWorkers: 2,
    passWithNoTests: false,
    reporters: ['default'],
  },
});
