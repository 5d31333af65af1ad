import { describe, it, expect } from 'vitest';
import { sql } from '../harness/db.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { armPendingInsertFault, armedInserts } from './faults.js';
import { confirmedLsn, currentLsn, pendingKeys, setupFor, startCapture, waitFor } from './helpers.js';

const checkpointOf = async (url: string, slot: string) =>
  (await sql<{ lsn: string }>(url, 'SELECT lsn::text AS lsn FROM carecycle_sync.checkpoint WHERE slot = $1', [slot]))[0]?.lsn ?? null;

describe('capture loss paths', { timeout: 90_000 }, () => {
  it('a flush that fails once is never followed by a flush that checkpoints past its keys', async () => {
    const url = await crmDatabase('loss-failed-flush');
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 40) g`);
    const config = await setupFor(demoConfig(url));
    // Only "full" flushes while the backlog streams: 10 keys each.
    config.sync.flushMaxKeys = 10;
    config.sync.flushIntervalMs = 5000;
    // T1 touches customer 1 alone; T2 touches 2..25. Committed before capture starts, so both
    // stream back to back: the first flush (key 1 and nine of T2's) fails, and a second flush
    // must not then write T1's commit as the checkpoint with only later keys.
    await sql(url, `UPDATE customers SET notes = 't1' WHERE id = 1`);
    await sql(url, `UPDATE customers SET notes = 't2' WHERE id BETWEEN 2 AND 25`);
    const end = await currentLsn(url);
    await armPendingInsertFault(url, { times: 1 });
    const run = startCapture(config);
    try {
      await waitFor(
        'the checkpoint to pass every change',
        async () => {
          const cp = await checkpointOf(url, config.source.slot);
          return cp !== null && (await sql<{ ok: boolean }>(url, 'SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [cp, end]))[0]!.ok;
        },
        30_000,
        100,
      );
      expect(await armedInserts(url)).toBeGreaterThanOrEqual(2);
      const expected = new Set(Array.from({ length: 25 }, (_, i) => String(i + 1)));
      expect(await pendingKeys(url)).toEqual(expected);
      expect(run.capture.status().reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await run.stop();
    }
  });

  it('confirmed_flush_lsn is exactly the stored checkpoint, never one byte past it', async () => {
    const url = await crmDatabase('loss-confirm-exact');
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 5) g`);
    const config = await setupFor(demoConfig(url));
    config.source.heartbeatSeconds = 3600;
    const run = startCapture(config);
    try {
      await waitFor('connected', () => run.capture.status().connected);
      await sql(url, `UPDATE customers SET notes = 'x' WHERE id = 3`);
      const change = await currentLsn(url);
      await waitFor('key 3 durable', async () => (await pendingKeys(url)).has('3'));
      // While streaming, keepalive positions (nothing to capture up to there) are confirmed at
      // once but stored lazily, so the slot may be ahead of the stored checkpoint; it must have
      // confirmed the change, and never stay behind the checkpoint.
      await waitFor(
        'the slot confirmed the change',
        async () =>
          (
            await sql<{ ok: boolean }>(url, 'SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [await confirmedLsn(url, config.source.slot), change])
          )[0]!.ok,
        10_000,
        50,
      );
      const behind = await sql<{ ok: boolean }>(url, 'SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [
        await confirmedLsn(url, config.source.slot),
        await checkpointOf(url, config.source.slot),
      ]);
      expect(behind[0]!.ok).toBe(true);
    } finally {
      await run.stop();
    }
    // After a clean stop (the drain stores the last confirmed position), Postgres holds exactly
    // what the state database holds: not one byte more.
    expect(await confirmedLsn(url, config.source.slot)).toBe(await checkpointOf(url, config.source.slot));
  });

  it('a side-table row moved to another customer without REPLICA IDENTITY FULL is counted; with FULL both customers are re-sent', async () => {
    const url = await crmDatabase('loss-watch-move');
    await sql(
      url,
      `INSERT INTO customers (id) SELECT g FROM generate_series(1, 3) g; INSERT INTO customer_phones (id, customer_id, phone) VALUES (1, 1, '5550001111')`,
    );
    const config = await setupFor(demoConfig(url));
    const run = startCapture(config);
    try {
      await waitFor('connected', () => run.capture.status().connected);
      await sql(url, 'UPDATE customer_phones SET customer_id = 2 WHERE id = 1');
      await waitFor('customer 2 queued', async () => (await pendingKeys(url)).has('2'));
      // The old row is not in the WAL: customer 1 cannot be named, but it is counted (and logged).
      expect(await pendingKeys(url)).toEqual(new Set(['2']));
      expect(run.capture.status().unattributedChanges).toBe(1);
      await sql(url, 'DELETE FROM carecycle_sync.pending; ALTER TABLE customer_phones REPLICA IDENTITY FULL');
      await sql(url, 'UPDATE customer_phones SET customer_id = 3 WHERE id = 1');
      await waitFor('customers 2 and 3 queued', async () => (await pendingKeys(url)).size === 2);
      expect(await pendingKeys(url)).toEqual(new Set(['2', '3']));
      expect(run.capture.status().unattributedChanges).toBe(1);
    } finally {
      await run.stop();
    }
  });

  it('a configured key column renamed in the CRM does not stop capture: its changes still queue customers and the slot moves on', async () => {
    const url = await crmDatabase('loss-key-renamed');
    await sql(
      url,
      `INSERT INTO customers (id) SELECT g FROM generate_series(1, 3) g; INSERT INTO policies (id, customer_id) VALUES (10, 1), (11, 2)`,
    );
    const config = await setupFor(demoConfig(url));
    const run = startCapture(config);
    try {
      await waitFor('connected', () => run.capture.status().connected);
      // What was sent before the rename (the settle's record), so policy keys resolve.
      await sql(
        url,
        `INSERT INTO carecycle_sync.sent_policies (policy_key, customer_key, identifiers) VALUES ('10', '1', '{}'), ('11', '2', '{}')`,
      );
      await sql(url, 'ALTER TABLE policies RENAME COLUMN customer_id TO client_id');
      await sql(url, `UPDATE policies SET status = 'cancelled' WHERE id = 11`);
      await sql(url, `UPDATE customers SET notes = 'still streaming' WHERE id = 3`);
      const end = await currentLsn(url);
      await waitFor(
        'the checkpoint past the changes',
        async () => {
          const cp = await checkpointOf(url, config.source.slot);
          return cp !== null && (await sql<{ ok: boolean }>(url, 'SELECT $1::pg_lsn >= $2::pg_lsn AS ok', [cp, end]))[0]!.ok;
        },
        20_000,
        100,
      );
      expect(run.capture.status().connected).toBe(true);
      expect(await pendingKeys(url)).toEqual(new Set(['2', '3']));
      expect(run.capture.status().schemaProblems).toEqual([
        expect.stringMatching(/^policies\.customerKey: column public\.policies\.customer_id no longer exists/),
      ]);
    } finally {
      await run.stop();
    }
  });
});
