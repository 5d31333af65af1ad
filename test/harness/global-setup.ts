import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import type { PgSource } from './plan.js';
import { providePostgres } from './providers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of this project's Postgres (database `postgres`, a superuser). */
    pgUrl: string;
    /** server_version of that Postgres. */
    pgVersion: string;
    /** Directory of server binaries of the same major, for tests that need a private cluster; '' when none. */
    pgBinDir: string;
    /** Prefix of the databases freshDatabase creates in this run (dropped afterwards on a PG_TEST_URL server). */
    pgDbPrefix: string;
    /** Where this project's server comes from (set by vitest.config.ts from plan.ts). */
    pgSource: PgSource;
  }
}

/**
 * Starts the Postgres of one vitest project (pg15, pg18, or pg for PG_TEST_URL). A throw here
 * fails the run (the summary reporter counts it), and its message says what to install or set.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const source = project.getProvidedContext().pgSource;
  if (!source) throw new Error(`vitest project ${project.name}: no pgSource; run the tests through vitest.config.ts`);
  const dbPrefix = `t${randomBytes(3).toString('hex')}_`;
  let provided;
  try {
    provided = await providePostgres(source, dbPrefix);
  } catch (err) {
    // No `cause`: vitest would print the same message twice.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`Postgres for the ${project.name} tests: ${(err as Error).message}`);
  }
  process.stdout.write(`postgres ${project.name}: ${provided.description}\n`);
  project.provide('pgUrl', provided.url);
  project.provide('pgVersion', provided.version);
  project.provide('pgBinDir', provided.binDir);
  project.provide('pgDbPrefix', dbPrefix);
  return provided.stop;
}
