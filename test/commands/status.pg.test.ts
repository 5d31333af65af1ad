import { describe, it, expect, afterAll } from 'vitest';
import { freshDatabase, sql } from '../harness/db.js';
import { cli, demoRaw, migrateState, seedCrm, writeConfig } from '../harness/fixtures.js';

const PASSWORD = 'pw-s3cret-status';
const slots: Array<{ url: string; slot: string }> = [];
afterAll(async () => {
  for (const s of slots) await sql(s.url, 'SELECT pg_drop_replication_slot($1)', [s.slot]).catch(() => undefined);
});

/** The URL with a password: trust auth ignores it, and no output may show it. */
function withPassword(url: string): string {
  const u = new URL(url);
  u.password = PASSWORD;
  return u.toString();
}

async function healthySetup(name: string) {
  const url = await freshDatabase(name);
  await seedCrm(url, 20);
  await migrateState(url);
  const slot = `st_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await sql(url, `CREATE PUBLICATION ${slot} FOR TABLE customers, policies`);
  await sql(url, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  slots.push({ url, slot });
  const raw = demoRaw(withPassword(url));
  raw.source.slot = slot;
  raw.source.publication = slot;
  return { url, slot, config: writeConfig(raw) };
}

describe('status', () => {
  it(
    'reports slot, checkpoint, queue, dead letters, backfill, quota and a rejected key, without secrets',
    { timeout: 180_000 },
    async () => {
      const { url, slot, config } = await healthySetup('status-healthy');
      await sql(
        url,
        `SET search_path TO carecycle_sync;
      INSERT INTO checkpoint (slot, lsn, updated_at) VALUES ('${slot}', pg_current_wal_lsn(), now() - interval '90 seconds');
      INSERT INTO pending (customer_key, priority, first_enqueued_at) VALUES ('1', 0, now() - interval '5 minutes'), ('2', 0, now()),
        ('3', 1, now()), ('4', 1, now()), ('5', 1, now());
      INSERT INTO dead_letters (customer_key, reason, field_path, http_status) VALUES ('9', 'required', 'phoneNumber', NULL);
      INSERT INTO backfill (where_sql, cursor, enqueued, total) VALUES (NULL, '10', 10, 20);
      INSERT INTO requests (status, records) VALUES (200, 100), (200, 40), (429, 0);
      INSERT INTO runtime (name, value) VALUES ('delivery', jsonb_build_object('keyRejected', true, 'keyRejectedAt', now(),
        'lastError', 'HTTP 401 from https://api.example.test: invalid key', 'lastErrorAt', now(), 'lastRequestAt', now()));`,
      );

      const json = await cli(['status', '--json', '-c', config], { env: { DATABASE_URL: withPassword(url) } });
      expect(json.stderr).toBe('');
      expect(json.code).toBe(0);
      expect(json.stdout).not.toContain(PASSWORD);
      const r = JSON.parse(json.stdout);
      expect(r).toMatchObject({
        setUp: true,
        problems: [],
        slot: { name: slot, active: false, walStatus: 'reserved' },
        queue: { live: { keys: 2 }, backfill: { keys: 3 }, total: 5 },
        deadLetters: { count: 1, newest: [{ key: '9', reason: 'required', fieldPath: 'phoneNumber' }] },
        backfill: { enqueued: 10, total: 20, finished: false, pending: 3, remaining: 13 },
        requests: { requests: 3, records: 140, byStatus: { '200': 2, '429': 1 }, limit: 60 },
        apiKeyRejected: true,
        lastError: { component: 'delivery' },
      });
      expect(r.slot.lagBytes).toBeGreaterThan(0);
      expect(r.slot.retainedBytes).toBeGreaterThanOrEqual(r.slot.lagBytes);
      expect(r.checkpoint.ageMs).toBeGreaterThanOrEqual(89_000);
      expect(r.queue.live.oldestAgeMs).toBeGreaterThanOrEqual(299_000);
      expect(r.source.url).toContain('[REDACTED]');
      // The status page's sparkline: records of accepted requests per minute, oldest first.
      expect(r.deliveredPerMinute).toHaveLength(60);
      expect(r.deliveredPerMinute.at(-1)).toBe(140);
      expect(r.deadLetters.topReasons).toEqual([{ reason: 'required', fieldPath: 'phoneNumber', count: 1 }]);

      const text = await cli(['status', '-c', config], { env: { DATABASE_URL: withPassword(url) } });
      expect(text.code).toBe(0);
      expect(text.stdout).not.toContain(PASSWORD);
      expect(text.stdout).toMatch(/live\s+2 keys, oldest 5m/);
      expect(text.stdout).toMatch(/backfill\s+3 keys/);
      expect(text.stdout).toMatch(/requests\s+3\/60 in the last minute/);
      expect(text.stdout).toMatch(/API key\s+REJECTED/);
      expect(text.stdout).toMatch(/confirmed LSN\s+\d+\/[0-9A-F]+, 1m \d\ds ago/);
    },
  );

  it('says "not set up" and exits 1 when the slot and the state schema are missing', { timeout: 180_000 }, async () => {
    const url = await freshDatabase('status-missing');
    await seedCrm(url, 0);
    const raw = demoRaw(withPassword(url));
    raw.source.slot = 'st_missing_slot';
    const config = writeConfig(raw);
    const text = await cli(['status', '-c', config], { env: { DATABASE_URL: withPassword(url) } });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('not set up: run carecycle-sync setup');
    expect(text.stdout).toContain('replication slot "st_missing_slot" does not exist');
    expect(text.stdout).not.toContain(PASSWORD);
    const json = await cli(['status', '--json', '-c', config], { env: { DATABASE_URL: withPassword(url) } });
    expect(json.code).toBe(1);
    const r = JSON.parse(json.stdout);
    expect(r.setUp).toBe(false);
    expect(r.problems.join('\n')).toMatch(/state schema "carecycle_sync" is missing table/);
    expect(r.queue).toBeNull();
  });
});
