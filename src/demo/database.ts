/**
 * The demo's database: a throwaway cluster of its own (never the user's server: the demo creates a
 * slot, a publication and a state schema and then deletes everything) holding the sample CRM of
 * sql/crm/ in a database named `crm`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { sqlDir } from '../paths.js';
import { findServerBinaries, NO_BINARIES_MESSAGE, type ServerBinaries } from './binaries.js';
import { startCluster, type PgCluster } from './pg-cluster.js';
import { startWatchdog } from './watchdog.js';

export const CRM_DATABASE = 'crm';

export interface DemoDatabase {
  cluster: PgCluster;
  binaries: ServerBinaries;
  /** URL of the `crm` database (superuser, trust auth on loopback). */
  url: string;
  customers: number;
  policies: number;
}

/** The seed script with its `:customers` variable filled in (psql syntax, replaced here). */
export function seedSql(customers: number): string {
  if (!Number.isInteger(customers) || customers < 1) throw new Error(`seed: customers must be a positive integer, found ${customers}`);
  return readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers));
}

export async function startDemoDatabase(customers: number): Promise<DemoDatabase> {
  const binaries = findServerBinaries();
  if (!binaries) throw new Error(NO_BINARIES_MESSAGE);
  // Own process group: a Ctrl-C in the terminal must not stop the server before the daemon drains.
  const server = await startCluster({ binDir: binaries.binDir, ownProcessGroup: true });
  // If the demo is killed outright, the watchdog still stops the server and removes its files.
  const watchdog = startWatchdog(server.pid()!, dirname(server.dataDir));
  const cluster: PgCluster = {
    ...server,
    async destroy(graceMs) {
      await server.destroy(graceMs);
      watchdog.release();
    },
  };
  try {
    await exec(cluster.url, `CREATE DATABASE ${CRM_DATABASE}`);
    const url = cluster.url.replace(/\/postgres$/, `/${CRM_DATABASE}`);
    const counts = await seedCrm(url, customers);
    return { cluster, binaries, url, ...counts };
  } catch (err) {
    await cluster.destroy(0);
    throw err;
  }
}

/** Creates the sample CRM's tables and fills them; returns what it holds. */
export async function seedCrm(url: string, customers: number): Promise<{ customers: number; policies: number }> {
  const c = new pg.Client({ connectionString: url, application_name: 'carecycle-sync demo seed' });
  await c.connect();
  try {
    await c.query(readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    // What `setup` would advise (a deleted extra phone must name its customer): the demo's
    // sample is set up the way the docs recommend, so its run starts without warnings.
    await c.query('ALTER TABLE customer_phones REPLICA IDENTITY FULL');
    await c.query(seedSql(customers));
    const r = await c.query<{ customers: string; policies: string }>(
      'SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM policies) AS policies',
    );
    return { customers: Number(r.rows[0]!.customers), policies: Number(r.rows[0]!.policies) };
  } finally {
    await c.end();
  }
}

async function exec(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
