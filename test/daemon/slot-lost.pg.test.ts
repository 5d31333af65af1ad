/**
 * A lost slot heals itself. On a private Postgres with a tiny max_slot_wal_keep_size the daemon
 * is stopped, customers and policies are changed and deleted, and enough WAL is written for
 * Postgres to invalidate the slot. The next `run` recreates the slot, reconciles every
 * customer, and every change made during the gap (the deletes included) reaches the stand-in,
 * at 60 requests a minute, within two minutes of the start.
 */
import { describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { sql } from '../harness/db.js';
import { startCluster } from '../harness/pg-cluster.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { seedCrm } from '../backfill/fixture.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const binDir = inject('pgBinDir');
const KEY = 'cc_slot_lost_0123456789abcdef';

describe.skipIf(!binDir)('a lost slot', { timeout: 240_000 }, () => {
  it('is recreated by run, and every change made while it was lost reaches CareCycle', async () => {
    const cluster = await startCluster({ binDir, settings: { max_slot_wal_keep_size: '1MB', wal_keep_size: '0' } });
    const standIn = await startStandIn({ apiKey: KEY, rpm: 60 });
    let daemon: DaemonChild | undefined;
    try {
      await sql(cluster.url, 'CREATE DATABASE crm');
      const url = cluster.url.replace(/\/postgres$/, '/crm');
      await seedCrm(url, 20);
      await sql(url, `UPDATE policies SET effective_date = current_date - (id % 300)::int`);
      const config = demoConfigFile((raw) => {
        raw.source.heartbeatSeconds = 1;
        raw.carecycle = { ...raw.carecycle, requestsPerMinute: 60 };
      });
      const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
      daemon = startDaemonChild(config, env);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 60_000 });
      daemon.kill('SIGTERM');
      await daemon.exited();

      // The gap: changes and deletes nobody streams.
      await sql(url, `UPDATE customers SET first_name = 'Gap' WHERE id = 1`);
      const [gone] = await sql<{ hs: string }>(
        url,
        `DELETE FROM policies WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 2) RETURNING hs_policy_id AS hs`,
      );
      await sql(
        url,
        `INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, lead_source)
                      VALUES ('New', 'During', '555-010-9999', 'new@example.com', '60601', '1990-01-02', 'F', 'web')`,
      );
      await sql(url, 'CREATE TABLE filler (body text)');
      const slotState = async () =>
        (await sql<{ s: string | null }>(url, `SELECT wal_status AS s FROM pg_replication_slots`))[0]?.s ?? null;
      for (let i = 0; i < 20 && (await slotState()) !== 'lost'; i++) {
        await sql(
          url,
          `INSERT INTO filler SELECT repeat(md5(g::text), 20) FROM generate_series(1, 20000) g; SELECT pg_switch_wal(); CHECKPOINT`,
        );
      }
      expect(await slotState()).toBe('lost');

      const t0 = Date.now();
      daemon = startDaemonChild(config, env);
      await daemon.sawLog('the recreation', (l) => l.level >= 50 && /was lost/.test(String(l.msg)), 60_000);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 120_000 });
      const healedMs = Date.now() - t0;
      console.log(`[slot-lost] changes made during the gap reached the stand-in ${(healedMs / 1000).toFixed(1)} s after run started`);
      expect(healedMs).toBeLessThan(120_000);
      expect(standIn.store.byExternalId('1')!.fields.firstName).toBe('Gap');
      const policy = standIn.store.byExternalId('2')!.policies.find((p) => p.fields.healthSherpaPolicyId === gone!.hs);
      expect(policy?.fields.status).toBe('Cancelled');
      expect(await slotState()).not.toBe('lost');

      const status = JSON.parse(
        execFileSync(process.execPath, cliArgs('status', '--json', '--config', config), {
          env: { ...process.env, ...env },
          encoding: 'utf8',
        }),
      );
      expect(status.slot).toMatchObject({ recreations: 1, lastLostReason: expect.stringMatching(/lost|wal_removed/) });
      expect(Date.parse(status.slot.lastRecreatedAt)).toBeGreaterThan(t0 - 1000);
    } finally {
      daemon?.kill('SIGKILL');
      await daemon?.exited();
      await standIn.close();
      await cluster.destroy();
    }
  });
});
