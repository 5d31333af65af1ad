import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { sql } from '../harness/db.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { confirmedAtLeast, confirmedLsn, currentLsn, pendingKeys, setupFor, spawnCapture, startCapture, waitFor } from './helpers.js';

/** Commits one update of customer `id` on `client`; returns the WAL insert position right after
 *  the commit, which (with no other writer) is the commit's end LSN. */
async function changeCustomer(client: pg.Client, id: number): Promise<string> {
  await client.query('UPDATE customers SET notes = md5(random()::text) WHERE id = $1', [id]);
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
}

describe('capture under failure', { timeout: 90_000 }, () => {
  it('(a) with the state database stalled, confirmed_flush_lsn never passes a change whose key is not in pending', async () => {
    const url = await crmDatabase('capture-stall');
    // A long heartbeat: no other writer, so the commit end LSN is known exactly.
    const config = await setupFor(demoConfig(url));
    config.source.heartbeatSeconds = 3600;
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 10) g`);
    const run = startCapture(config);
    const writer = new pg.Client({ connectionString: url });
    const blocker = new pg.Client({ connectionString: url });
    await Promise.all([writer.connect(), blocker.connect()]);
    try {
      const seeded = await currentLsn(url);
      await waitFor('caught up', () => confirmedAtLeast(url, config.source.slot, seeded));
      await sql(url, 'DELETE FROM carecycle_sync.pending');
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE carecycle_sync.pending IN EXCLUSIVE MODE');
      const commitEnd = await changeCustomer(writer, 7);
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        // Postgres' view: the slot must not reach the end of that commit while its key is not durable.
        expect(await confirmedAtLeast(url, config.source.slot, commitEnd)).toBe(false);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await pendingKeys(url)).not.toContain('7');
      expect(run.capture.status().connected).toBe(true);
      await blocker.query('ROLLBACK');
      await waitFor('confirmed after the stall', () => confirmedAtLeast(url, config.source.slot, commitEnd));
      expect(await pendingKeys(url)).toContain('7');
    } finally {
      await blocker.end().catch(() => undefined);
      await writer.end();
      await run.stop();
    }
  });

  it('(c) heavy writes to an unpublished table while the watched tables are idle: retained WAL stays bounded', async () => {
    const url = await crmDatabase('capture-idle-wal');
    const config = await setupFor(demoConfig(url));
    await sql(url, 'CREATE TABLE audit_log (id bigserial PRIMARY KEY, body text)');
    const run = startCapture(config);
    try {
      await waitFor('connected', () => run.capture.status().connected);
      const start = await currentLsn(url);
      let maxRetained = 0;
      const sample = async () => {
        const r = await sql<{ confirmed: string; restart: string }>(
          url,
          `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS confirmed,
                  pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS restart
             FROM pg_replication_slots WHERE slot_name = $1`,
          [config.source.slot],
        );
        maxRetained = Math.max(maxRetained, Number(r[0]!.confirmed));
        return { confirmed: Number(r[0]!.confirmed), restart: Number(r[0]!.restart) };
      };
      const until = Date.now() + 4000;
      while (Date.now() < until) {
        await sql(url, `INSERT INTO audit_log (body) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 5000) g`);
        await sample();
      }
      const written = Number(
        (await sql<{ d: string }>(url, 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::bigint AS d', [start]))[0]!.d,
      );
      // Shortly after the writes stop, the slot has caught up with nearly everything. restart_lsn
      // (what really holds WAL) moves only at a running-xacts record, which Postgres logs every
      // 15 s or at a checkpoint: force one, then it must follow the confirmed position.
      let last = await sample();
      await waitFor('confirmed_flush_lsn to catch up', async () => (last = await sample()).confirmed < 1 << 20, 10_000, 200);
      await sql(url, 'CHECKPOINT');
      await waitFor('restart_lsn to catch up', async () => (last = await sample()).restart < 2 << 20, 10_000, 200);
      console.log(
        `[capture-idle-wal] WAL written ${(written / 2 ** 20).toFixed(1)} MB; max retained (current - confirmed_flush) ${(maxRetained / 2 ** 20).toFixed(2)} MB; after: confirmed ${last.confirmed} B, restart_lsn ${(last.restart / 2 ** 20).toFixed(2)} MB behind`,
      );
      expect(written).toBeGreaterThan(20 * 2 ** 20);
      expect(maxRetained).toBeLessThan(written / 2);
      expect(await pendingKeys(url)).toEqual(new Set());
    } finally {
      await run.stop();
    }
  });

  it('(d) a terminated walsender: capture reconnects by itself from the checkpoint, nothing lost', async () => {
    const url = await crmDatabase('capture-terminate');
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 200) g`);
    const config = await setupFor(demoConfig(url));
    const run = startCapture(config);
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    try {
      await waitFor('connected', () => run.capture.status().connected);
      const changed = new Set<string>();
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 30; i++) {
          const id = 1 + Math.floor(Math.random() * 200);
          await changeCustomer(writer, id);
          changed.add(String(id));
        }
        await sql(
          url,
          'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL',
          [config.source.slot],
        );
      }
      const end = await currentLsn(url);
      await waitFor('confirmed past every change', () => confirmedAtLeast(url, config.source.slot, end));
      expect(await pendingKeys(url)).toEqual(changed);
      expect(run.capture.status().reconnects).toBeGreaterThanOrEqual(1);
      expect(run.capture.status().connected).toBe(true);
    } finally {
      await writer.end();
      await run.stop();
    }
  });

  it('(e) a second instance waits as a hot standby and takes over when the first is killed', async () => {
    const url = await crmDatabase('capture-standby');
    // Seeded before the slot exists: only the changes below are ever captured.
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 50) g`);
    const config = await setupFor(demoConfig(url));
    const first = spawnCapture(config);
    await first.saw('connected');
    const second = startCapture(config, { lockPollMs: 100 });
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    try {
      await waitFor('second to be a standby', () => run2().isStandby);
      expect(run2().connected).toBe(false);
      await first.kill('SIGKILL');
      // Changes made while nobody streams are picked up by the standby.
      for (const id of [11, 12, 13]) await changeCustomer(writer, id);
      await waitFor('standby took over', () => run2().connected, 20_000);
      expect(run2().isStandby).toBe(false);
      const end = await currentLsn(url);
      await waitFor('confirmed past the changes', () => confirmedAtLeast(url, config.source.slot, end));
      expect(await pendingKeys(url)).toEqual(new Set(['11', '12', '13']));
      const active = await sql<{ pid: number | null }>(url, 'SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [
        config.source.slot,
      ]);
      expect(active[0]?.pid).not.toBeNull();
      expect(await confirmedLsn(url, config.source.slot)).toBeTruthy();
    } finally {
      await writer.end();
      await first.kill('SIGKILL');
      await second.stop();
    }
    function run2() {
      return second.capture.status();
    }
  });
});
