import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{log,projections,mount,server,client,spec,bin,bench}/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
