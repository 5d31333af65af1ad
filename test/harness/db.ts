import { inject } from 'vitest';
import pg from 'pg';

let counter = 0;

/**
 * A fresh database for one test file (or test), named after it, on the project's Postgres.
 * Databases are never dropped: the cluster is thrown away after the run, and a failed test's
 * database can be inspected while debugging with PG_TEST_KEEP=1.
 */
export async function freshDatabase(name: string): Promise<string> {
  const admin = inject('pgUrl');
  const db = `t_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 40)}_${process.pid}_${++counter}`;
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
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}
