import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests drive real git, Docker and loopback servers; two cores here.
    pool: 'forks',
    maxWorkers: 2,
  },
});
