import { inject } from 'vitest';
import pg from 'pg';

let counter = 0;

/**
 * A fresh database for one test file (or test), named after it, on the project's Postgres.
 * On the harness's own servers databases are never dropped (the cluster is thrown away after
 * the run; PG_TEST_KEEP=1 keeps its data directory for a look); on a PG_TEST_URL server this
 * run's databases are dropped at the end unless PG_TEST_KEEP=1.
 */
export async function freshDatabase(name: string): Promise<string> {
  const admin = inject('pgUrl');
  const prefix = inject('pgDbPrefix') ?? 't_';
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30);
  const db = `${prefix}${slug}_${process.pid}_${++counter}`.slice(0, 63);
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${db}"`);
  } finally {
    await c.end();
  }
  const u = new URL(admin);
  u.pathname = `/${db}`;
  return u.toString();
}

/** Runs SQL against a database and closes the connection. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}
