import { defineConfig } from 'vitest/config';

// Tiers 1–3 (unit, images, boots) run in Node. Boot tests get generous timeouts: a TCG-emulated
// kernel on a loaded 2-core machine can take half a minute.
export default defineConfig({
  test: {
    include: ['workers/**/*.test.ts', 'tests/**/*.test.ts', 'web/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
