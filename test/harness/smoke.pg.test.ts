import { describe, it, expect, inject } from 'vitest';
import { freshDatabase, sql } from './db.js';

describe('harness', () => {
  it('gives a database with wal_level=logical', async () => {
    const url = await freshDatabase('smoke');
    const rows = await sql<{ wal_level: string }>(url, 'SHOW wal_level');
    expect(rows[0]!.wal_level).toBe('logical');
    expect(inject('pgVersion')).toMatch(/^\d+/);
  });
});
