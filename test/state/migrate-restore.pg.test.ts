/**
 * Migration 007 on state written by an older version: the restore state that hid in
 * `sent.payload_hash` as a `restore:` prefix moves to `sent.restore`, and both spellings of
 * "outcome unknown" become the one value the code writes now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { listMigrations, migrate } from '../../src/state/migrate.js';
import { UNKNOWN_OUTCOME_HASH } from '../../src/queue/unknown-outcome.js';
import { freshDatabase } from '../harness/db.js';

const SCHEMA = 'ccs_upgrade';
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: await freshDatabase('migrate-restore') });
  await client.connect();
  // The schema as version 6 left it.
  await client.query(`CREATE SCHEMA ${SCHEMA}; SET search_path TO ${SCHEMA}`);
  await client.query(
    'CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  for (const m of listMigrations().filter((x) => x.version <= 6)) {
    await client.query(m.sql);
    await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
  }
});

afterAll(async () => {
  await client?.end();
});

describe('migration 007: the restore state gets its own column', () => {
  it('converts rows written in the old format', async () => {
    await client.query(
      `INSERT INTO sent (customer_key, payload_hash) VALUES
         ('plain', 'abc'), ('restore', 'restore:def'), ('unknown', 'unknown:'),
         ('unknown-restore', 'unknown:restore:'), ('left', 'unknown-outcome')`,
    );
    expect(await migrate(client, SCHEMA)).toContain('007_sent_restore.sql');
    const rows = await client.query<{ customer_key: string; payload_hash: string; restore: boolean }>(
      'SELECT customer_key, payload_hash, restore FROM sent ORDER BY customer_key',
    );
    expect(rows.rows).toEqual([
      { customer_key: 'left', payload_hash: UNKNOWN_OUTCOME_HASH, restore: false },
      { customer_key: 'plain', payload_hash: 'abc', restore: false },
      { customer_key: 'restore', payload_hash: 'def', restore: true },
      { customer_key: 'unknown', payload_hash: UNKNOWN_OUTCOME_HASH, restore: false },
      { customer_key: 'unknown-restore', payload_hash: UNKNOWN_OUTCOME_HASH, restore: true },
    ]);
  });
});
