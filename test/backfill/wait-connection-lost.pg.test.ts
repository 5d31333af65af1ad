/**
 * `backfill --wait` when the CRM's server cuts its connections: the process must not crash on a
 * pg client's unhandled 'error' event (a connection that breaks while checked out of a pool emits
 * it on the client, where the pool does not listen). It exits 1 with the error in one line, and
 * the next `backfill --wait` resumes and delivers everything.
 *
 * The cut is made deterministic with a real lock: the test holds `policies` ACCESS EXCLUSIVE, so
 * the enqueue (customers only) finishes and the startup check of the mapping blocks on a
 * checked-out CRM connection; then every connection of the command is terminated.
 */
import { describe, it, expect, afterEach } from 'vitest';
import pg from 'pg';
import { sql } from '../harness/db.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { cli, crmWithState, demoRaw, slotFor, writeConfig, type CliResult } from '../harness/fixtures.js';

const API_KEY = 'cc_test_wait_lost_key_123';
const CUSTOMERS = 2000;
let standIn: StandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backfill --wait when the CRM cuts its connections', () => {
  it('exits with a message instead of crashing, and the next run delivers everything', { timeout: 180_000 }, async () => {
    const url = await crmWithState('bf-wait-lost', CUSTOMERS);
    const db = new URL(url).pathname.slice(1);
    standIn = await startStandIn({ apiKey: API_KEY, rpm: 100_000 });
    const raw = demoRaw(url);
    raw.source.slot = slotFor(url);
    raw.carecycle = { baseUrl: standIn.url, requestsPerMinute: 6000 };
    const path = writeConfig(raw);
    const env = { DATABASE_URL: url, CARECYCLE_API_KEY: API_KEY };

    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    let first: CliResult;
    let cut: unknown[];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE policies IN ACCESS EXCLUSIVE MODE');
      const running = cli(['backfill', '--wait', '-c', path], { env });
      // The mapping check waits for the lock on a connection checked out of the CRM pool.
      await until('the mapping check to wait for the lock', async () => {
        const r = await sql(
          url,
          `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'carecycle-sync backfill' AND wait_event_type = 'Lock'`,
          [db],
        );
        return r.length > 0 ? true : undefined;
      });
      // Every connection of the command, active and idle, as a server restart would.
      cut = await sql(
        url,
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'carecycle-sync%'`,
        [db],
      );
      expect(cut.length).toBeGreaterThanOrEqual(2);
      await locker.query('COMMIT');
      first = await running;
    } finally {
      await locker.end();
    }
    expect(first.stderr).not.toMatch(/Unhandled 'error' event|Emitted 'error' event| {4}at /);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/^error: .*(terminat|Connection)/im);
    expect(first.stdout).toContain(`Enqueued ${CUSTOMERS.toLocaleString('en-US')} keys`);
    console.log(`[wait-lost] ${cut.length} connections cut; the command said: ${/^error: .*$/m.exec(first.stderr)?.[0]}`);

    const second = await cli(['backfill', '--wait', '-c', path], { env });
    expect(second.stderr).not.toMatch(/error/i);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`delivered\\s+${CUSTOMERS.toLocaleString('en-US')}\\n`));
    expect(standIn.store.all()).toHaveLength(CUSTOMERS);
    expect(await sql(url, 'SELECT 1 FROM carecycle_sync.pending')).toEqual([]);
  });
});
