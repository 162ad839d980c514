import { defineConfig } from 'vitest/config';

/** The one timing assertion (/health latency) runs after the rest, alone: the suite's own load on the cores is not the daemon's. */
const TIMING = ['server/responsive.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'suite', include: ['{log,projections,mount,server,client,spec,bin,bench}/**/*.test.ts'], exclude: TIMING } },
      { extends: true, test: { name: 'timing', include: TIMING, sequence: { groupOrder: 1 } } },
    ],
  },
});
