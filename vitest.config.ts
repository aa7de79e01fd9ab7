import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests drive real git, Docker and loopback servers; two cores here.
    pool: 'forks',
    // In CI, also a machine-readable report: .ci/run turns it into one plain closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest.json' }]] : ['default'],
    maxWorkers: 2,
  },
});
