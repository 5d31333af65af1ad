/**
 * A composition root whose set-up fails half-way releases what it had already acquired (in
 * reverse order, src/lib/releasers.ts): no pool connection, client or advisory lock outlives the
 * failed start, so a retry starts clean. Checked on the server (pg_stat_activity, pg_locks).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { sql } from '../harness/db.js';
import { crmWithState, demoConfig, slotFor } from '../harness/fixtures.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { openStateDb } from '../../src/state/db.js';
import { openSourcePool } from '../../src/pg/pool.js';
import { SlotLock } from '../../src/source/lock.js';
import { pgConfig } from '../../src/config/pg-connection.js';
import { ConfigError } from '../../src/errors.js';
import { deliverIfNoDaemon } from '../../src/cli/commands/backfill-deliver.js';

const API_KEY = 'cc_test_set_up_failure_key';

/** The connections named `names` still open on the test database, once they settle (5 s at most). */
async function openConnections(url: string, names: string[]): Promise<string[]> {
  const db = new URL(url).pathname.slice(1);
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await sql<{ app: string }>(
      url,
      `SELECT application_name AS app FROM pg_stat_activity WHERE datname = $1 AND application_name = ANY($2) ORDER BY 1`,
      [db, names],
    );
    if (rows.length === 0 || Date.now() > deadline) return rows.map((r) => r.app);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let taken: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (taken ? taken.close(r) : r(undefined)));
  taken = undefined;
});

describe('a set-up that fails half-way releases what it acquired', () => {
  it('the daemon: its health port is taken after the pools, the mapping check and the delivery client', async () => {
    const url = await crmWithState('set-up-failure-daemon', 10);
    const config = demoConfig(url, undefined, (raw) => {
      raw.source.slot = slotFor(url);
      raw.carecycle = { baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY };
    });
    taken = createServer();
    await new Promise<void>((r) => taken!.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const start = startDaemon({ config, configPath: 'set-up-failure config', log: silentLogger(), port, host: '127.0.0.1', setup: false });
    await expect(start).rejects.toThrow(/health server: cannot listen .*EADDRINUSE/);
    // Its CRM pool (the mapping check) and its state pool (the dead-letter requeue, the budget) were open.
    expect(await openConnections(url, ['carecycle-sync assemble', 'carecycle-sync'])).toEqual([]);
  });

  it('backfill --wait: the mapping does not match the CRM after the slot lock and the lease were taken', async () => {
    const url = await crmWithState('set-up-failure-inline', 10);
    const config = demoConfig(url, undefined, (raw) => {
      raw.source.slot = slotFor(url);
      raw.carecycle = { baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY };
    });
    await sql(url, 'ALTER TABLE customers RENAME COLUMN first_name TO given_name');
    const state = openStateDb(config, { max: 2, applicationName: 'carecycle-sync test state' });
    const crm = openSourcePool(config, { max: 2, application_name: 'carecycle-sync test crm' });
    try {
      await expect(deliverIfNoDaemon(config, 'set-up-failure config', state, crm, silentLogger())).rejects.toBeInstanceOf(ConfigError);
      // The lease was taken under the lock, then the lock's connection closed.
      expect(await sql(url, 'SELECT count(*)::int AS n FROM carecycle_sync.lease')).toEqual([{ n: 1 }]);
      expect(await openConnections(url, ['carecycle-sync lock'])).toEqual([]);
      expect(
        await sql(
          url,
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        ),
      ).toEqual([]);
      const other = new SlotLock(pgConfig(config, 'source', {}), config.source.slot);
      expect(await other.tryAcquire()).toBe(true);
      await other.release();
    } finally {
      await state.close();
      await crm.end();
    }
  });
});
