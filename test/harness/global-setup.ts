import type { TestProject } from 'vitest/node';
import { providePostgres } from './providers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of this project's Postgres (database `postgres`). */
    pgUrl: string;
    /** server_version of that Postgres. */
    pgVersion: string;
    /** Directory of server binaries of the same major, for tests that need a private cluster; '' when none. */
    pgBinDir: string;
  }
}

/** Starts one Postgres per vitest project (the project's name says which major: pg15, pg18). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pgProvided = await providePostgres(project.name);
  project.provide('pgUrl', pgProvided.url);
  project.provide('pgVersion', pgProvided.version);
  project.provide('pgBinDir', pgProvided.binDir);
  return pgProvided.stop;
}
