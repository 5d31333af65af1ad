import pg from 'pg';
import { startCluster, serverVersion } from './pg-cluster.js';
import { findBinaries, type PgSource } from './plan.js';

/** A running Postgres for one vitest project, whichever way it was obtained (see plan.ts). */
export interface ProvidedPostgres {
  url: string;
  version: string;
  /** Server binaries of the same major for private clusters; '' when this machine has none. */
  binDir: string;
  /** Where it came from, for the run's log. */
  description: string;
  stop: () => Promise<void>;
}

export { findBinaries };

/** Kept for callers of the first harness version: server binaries of a major, or undefined. */
export function binDirFor(major: string): string | undefined {
  return findBinaries(major)?.binDir;
}

const keep = (): boolean => process.env.PG_TEST_KEEP === '1';

export async function providePostgres(source: PgSource, dbPrefix: string): Promise<ProvidedPostgres> {
  switch (source.kind) {
    case 'missing':
      throw new Error(source.message);
    case 'url':
      return fromUrl(source.url, dbPrefix);
    case 'docker':
      return fromDocker(source.image, source.endpoint);
    case 'binaries': {
      const cluster = await startCluster({ binDir: source.binDir, settings: SHARED_SERVER_SETTINGS });
      return {
        url: cluster.url,
        version: cluster.version,
        binDir: source.binDir,
        description: `PostgreSQL ${cluster.version} from ${source.origin}, port ${cluster.port}`,
        stop: async () => {
          if (!keep()) return cluster.destroy();
          await cluster.stopServer();
          process.stderr.write(
            `PG_TEST_KEEP=1: kept ${cluster.dataDir} (start: ${source.binDir}/postgres -D ${cluster.dataDir} -p ${cluster.port})\n`,
          );
        },
      };
    }
  }
}

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(PG_TEST_URL is not a URL)';
  }
}

/** Checks that a given server can host the tests, with the fix in every message. */
export async function checkServer(url: string): Promise<string> {
  const where = `PG_TEST_URL (${safeUrl(url)})`;
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `${where} is not reachable: ${(err as Error).message}. Fix the URL or start that server, or unset PG_TEST_URL to let the tests start their own Postgres.`,
      { cause: err },
    );
  }
  try {
    const r = await c.query<{ wal_level: string; super: boolean; createdb: boolean; repl: boolean }>(
      `SELECT current_setting('wal_level') AS wal_level, rolsuper AS super, rolcreatedb AS createdb, rolreplication AS repl
         FROM pg_roles WHERE rolname = current_user`,
    );
    const row = r.rows[0]!;
    if (row.wal_level !== 'logical') {
      throw new Error(
        `${where} has wal_level=${row.wal_level}, and these tests need wal_level=logical: run ` +
          '`ALTER SYSTEM SET wal_level = logical;` on it and restart it, or unset PG_TEST_URL to let the tests start their own Postgres.',
      );
    }
    if (!row.super && !(row.createdb && row.repl)) {
      throw new Error(
        `${where}: the user must be a superuser (or have CREATEDB and REPLICATION): ALTER ROLE ... SUPERUSER, or use another user.`,
      );
    }
  } finally {
    await c.end();
  }
  return serverVersion(url);
}

async function fromUrl(url: string, dbPrefix: string): Promise<ProvidedPostgres> {
  const version = await checkServer(url);
  const major = version.split(/[.\s]/)[0]!;
  return {
    url,
    version,
    binDir: findBinaries(major)?.binDir ?? '',
    description: `PostgreSQL ${version} at PG_TEST_URL (${safeUrl(url)})`,
    // Someone else's server: leave nothing behind (slots would pin its WAL forever).
    stop: () => (keep() ? Promise.resolve() : dropTestDatabases(url, dbPrefix)),
  };
}

/** Drops this run's databases (and the replication slots that would block the drop). */
export async function dropTestDatabases(url: string, dbPrefix: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const like = `${dbPrefix.replace(/_/g, '\\_')}%`;
    const dbs = (await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [like])).rows;
    for (const { datname } of dbs) {
      await c.query('SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL', [
        datname,
      ]);
      await c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1', [datname]);
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await c.end();
  }
}

const DOCKER_SETTINGS = [
  'wal_level=logical',
  'max_wal_senders=100',
  'max_replication_slots=100',
  'max_connections=200',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
];

async function fromDocker(image: string, endpoint: string): Promise<ProvidedPostgres> {
  // Imported only here: testcontainers is never touched unless the engine answered /_ping.
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const command = ['postgres', ...DOCKER_SETTINGS.flatMap((s) => ['-c', s])];
  const container = await new PostgreSqlContainer(image).withDatabase('postgres').withUsername('postgres').withCommand(command).start();
  const url = container.getConnectionUri();
  const version = await serverVersion(url);
  const major = version.split(/[.\s]/)[0]!;
  return {
    url,
    version,
    binDir: findBinaries(major)?.binDir ?? '',
    description: `PostgreSQL ${version} in Docker (${image}, engine at ${endpoint})`,
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * The project's shared server: every test database that streams keeps its slot until the run
 * ends (databases are never dropped on it), and test files run three at a time, so the slot and
 * sender limits are far above the demo's.
 */
const SHARED_SERVER_SETTINGS = { max_replication_slots: '100', max_wal_senders: '100', max_connections: '300' };
