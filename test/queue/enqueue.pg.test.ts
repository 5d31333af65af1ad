import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { validateConfig } from '../../src/config/load.js';
import { enqueueKeys, readCheckpoint, writeBatch } from '../../src/queue/enqueue.js';
import { openStateDb } from '../../src/state/db.js';
import { migrate } from '../../src/state/migrate.js';
import { PRIORITY } from '../../src/state/tables.js';
import { freshDatabase, sql } from '../harness/db.js';

async function stateFor(name: string) {
  const url = await freshDatabase(name);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await migrate(c, 'carecycle_sync');
  await c.end();
  const state = openStateDb(validateConfig({ source: { url }, customers: { table: 'customers' } }), { max: 2 });
  const rows = async () =>
    (
      await sql<{ customer_key: string; version: string; priority: number }>(
        url,
        'SELECT customer_key, version, priority FROM carecycle_sync.pending ORDER BY customer_key',
      )
    ).map((r) => `${r.customer_key}:v${r.version}:p${r.priority}`);
  return { url, state, rows };
}

describe('enqueueKeys', { timeout: 30_000 }, () => {
  it('inserts new keys, bumps the version of queued ones, and keeps the more urgent priority', async () => {
    const { state, rows } = await stateFor('enqueue-upsert');
    try {
      await enqueueKeys(state, ['1', '2', '2'], PRIORITY.backfill);
      expect(await rows()).toEqual(['1:v1:p1', '2:v1:p1']);
      await enqueueKeys(state, ['2', '3'], PRIORITY.live);
      expect(await rows()).toEqual(['1:v1:p1', '2:v2:p0', '3:v1:p0']);
      // A backfill entry never demotes a live one.
      await enqueueKeys(state, ['2'], PRIORITY.backfill);
      expect(await rows()).toEqual(['1:v1:p1', '2:v3:p0', '3:v1:p0']);
    } finally {
      await state.close();
    }
  });

  it('writes the checkpoint in the same transaction, never moving it backwards', async () => {
    const { state } = await stateFor('enqueue-checkpoint');
    try {
      expect(await readCheckpoint(state, 's')).toBeNull();
      await enqueueKeys(state, ['1'], PRIORITY.live, { slot: 's', lsn: '0/2000' });
      await enqueueKeys(state, ['2'], PRIORITY.live, { slot: 's', lsn: '0/1000' });
      expect(await readCheckpoint(state, 's')).toBe('0/2000');
    } finally {
      await state.close();
    }
  });

  it('rolls back keys and checkpoint together when the transaction fails', async () => {
    const { url, state, rows } = await stateFor('enqueue-atomic');
    try {
      await sql(url, "ALTER TABLE carecycle_sync.checkpoint ADD CONSTRAINT no_big CHECK (lsn < '0/5000'::pg_lsn)");
      await expect(enqueueKeys(state, ['9'], PRIORITY.live, { slot: 's', lsn: '0/6000' })).rejects.toThrow(/no_big/);
      expect(await rows()).toEqual([]);
    } finally {
      await state.close();
    }
  });

  it('resolves policy keys and truncates through what was sent', async () => {
    const { url, state, rows } = await stateFor('enqueue-resolve');
    try {
      await sql(
        url,
        `INSERT INTO carecycle_sync.sent_policies (policy_key, customer_key, identifiers) VALUES ('p1', 'c1', '{}'), ('p2', 'c2', '{}')`,
      );
      await sql(url, `INSERT INTO carecycle_sync.sent (customer_key, payload_hash) VALUES ('c7', 'h')`);
      await writeBatch(state, { keys: ['c1'], priority: PRIORITY.live, policyKeys: ['p1', 'p2', 'unknown'] });
      expect(await rows()).toEqual(['c1:v1:p0', 'c2:v1:p0']);
      await writeBatch(state, { keys: [], priority: PRIORITY.live, allSentCustomers: true });
      expect(await rows()).toEqual(['c1:v1:p0', 'c2:v1:p0', 'c7:v1:p0']);
    } finally {
      await state.close();
    }
  });

  it('keeps a policy change sent_policies cannot resolve, and resolves it at a later flush once the policy is recorded', async () => {
    const { url, state, rows } = await stateFor('enqueue-unresolved');
    try {
      await writeBatch(state, { keys: [], priority: PRIORITY.live, policyKeys: ['p9'], deletedPolicyKeys: ['p9'] });
      expect(await rows()).toEqual([]);
      expect(await sql(url, 'SELECT policy_key FROM carecycle_sync.unresolved_policy_changes')).toEqual([{ policy_key: 'p9' }]);
      // A settle that raced that flush recorded the policy without seeing the unresolved change.
      await sql(url, `INSERT INTO carecycle_sync.sent_policies (policy_key, customer_key, identifiers) VALUES ('p9', '42', '{}')`);
      await writeBatch(state, { keys: ['7'], priority: PRIORITY.live, sweepUnresolved: true });
      expect(await rows()).toEqual(['42:v1:p0', '7:v1:p0']);
      expect(await sql(url, 'SELECT policy_key FROM carecycle_sync.unresolved_policy_changes')).toEqual([]);
    } finally {
      await state.close();
    }
  });
});
