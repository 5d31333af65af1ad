import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { sqlDir } from '../paths.js';
import { quoteIdent as q } from '../pg/names.js';

/**
 * Applies the numbered migrations of sql/migrations/ to the state schema, each in its own
 * transaction, under a transaction-level advisory lock so two instances starting at once
 * serialise instead of racing (the second sees the first's rows in schema_migrations).
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = join(sqlDir(), 'migrations')): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/** The SQL `setup --print-sql` shows for the state schema (no lock, no bookkeeping beyond the table). */
export function migrationScript(schema: string): string {
  const parts = [
    `CREATE SCHEMA IF NOT EXISTS ${q(schema)};`,
    `SET search_path TO ${q(schema)};`,
    'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());',
  ];
  for (const m of listMigrations()) {
    parts.push(`-- ${m.name}`, m.sql.trim(), `INSERT INTO schema_migrations (version, name) VALUES (${m.version}, '${m.name}');`);
  }
  return parts.join('\n') + '\n';
}

/** Applies pending migrations; returns the names applied. `client` is a plain connection. */
export async function migrate(client: pg.ClientBase, schema: string): Promise<string[]> {
  const applied: string[] = [];
  for (const m of listMigrations()) {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`carecycle_sync.migrate.${schema}`]);
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists,
      // so a DBA's pre-created schema (sql/roles/least-privilege.sql) would fail it: look first.
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${q(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${q(schema)}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query(`SELECT 1 FROM ${q(schema)}.schema_migrations WHERE version = $1`, [m.version]);
      if (done.rowCount === 0) {
        await client.query(`SET LOCAL search_path TO ${q(schema)}`);
        await client.query(m.sql);
        await client.query(`INSERT INTO ${q(schema)}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        applied.push(m.name);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`state migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return applied;
}
