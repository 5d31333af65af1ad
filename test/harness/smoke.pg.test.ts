import { describe, it, expect, inject } from 'vitest';
import { freshDatabase, sql } from './db.js';

describe('harness', () => {
  it('gives a fresh database with wal_level=logical, where a pgoutput slot can be made', async () => {
    const url = await freshDatabase('smoke');
    const rows = await sql<{ wal_level: string; db: string }>(url, 'SELECT current_setting($1) AS wal_level, current_database() AS db', [
      'wal_level',
    ]);
    expect(rows[0]!.wal_level).toBe('logical');
    expect(rows[0]!.db.startsWith(inject('pgDbPrefix'))).toBe(true);
    await sql(url, "SELECT pg_create_logical_replication_slot('smoke_' || pg_backend_pid(), 'pgoutput')");
    expect(inject('pgVersion')).toMatch(/^\d+/);
  });
});
