/**
 * Two deliverers after the slot lock is lost: the instance whose lock connection dies with a
 * request in flight must neither keep retrying it nor record it over what the new holder sent.
 * Two daemons run in this process against one CRM and the stand-in; the first one's lock
 * session is terminated while CareCycle holds its request, the CRM changes meanwhile, the
 * second takes over and sends the newer record, and only then does the older request land.
 */
import { describe, expect, it } from 'vitest';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm, demoRaw } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_lease_test_0123456789';

describe('the delivery lease', { timeout: 120_000 }, () => {
  it('an instance that lost the slot lock records nothing over the new holder, and the customer ends as the CRM has it', async () => {
    const url = await freshDatabase('daemon-lease');
    await seedCrm(url, 3);
    const standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    const raw = demoRaw(url);
    raw.source.slot = slotFor(url);
    raw.source.heartbeatSeconds = 1;
    raw.carecycle = { baseUrl: standIn.url, apiKey: KEY, requestsPerMinute: 6000, timeoutMs: 8000 };
    raw.sync = { ...raw.sync, flushIntervalMs: 50 };
    const config = validateConfig(raw);
    const started: Array<{ daemon: Daemon; stop: AbortController; done: Promise<void> }> = [];
    const start = async () => {
      const daemon = await startDaemon({ config, configPath: 'lease-test', log: silentLogger(), port: null, idlePollMs: 50 });
      const stop = new AbortController();
      const done = daemon.run(stop.signal, new AbortController().signal).catch(() => undefined);
      started.push({ daemon, stop, done });
      return daemon;
    };
    try {
      const a = await start();
      await waitFor('the first daemon to stream', () => a.capture.status().connected, 30_000);
      const b = await start();
      await waitFor('the second to wait as a standby', () => b.capture.status().isStandby, 30_000);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });

      // CareCycle holds A's next request for 5 s, within the request timeout (8 s), and still
      // applies it afterwards, as a server that does not notice the client gave up would.
      standIn.faults.set({ latencyMs: 5000 });
      const mark = standIn.requests.length;
      await sql(url, `UPDATE customers SET first_name = 'Older' WHERE id = 1`);
      await waitFor("A's request to be in flight", () => standIn.requests.slice(mark).some((r) => r.externalIds.includes('1')), 10_000, 5);
      const held = standIn.requests.slice(mark).find((r) => r.externalIds.includes('1'))!;
      standIn.faults.set({ latencyMs: 0 });
      await sql(url, `UPDATE customers SET first_name = 'Newer' WHERE id = 1`);
      // A's lock session dies (a network blip, a restart of a pooler, an operator's terminate).
      await sql(
        url,
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      // Whoever takes the lock now (B, or A again after its reconnect) holds a new lease.
      await waitFor('a new lease', () => [a, b].some((d) => d.capture.lease()?.generation === '2'), 20_000);
      await waitFor("B's newer record in the stand-in", () => standIn.store.byExternalId('1')?.fields.firstName === 'Newer', 20_000);
      // A's held request is applied after that (CareCycle briefly shows the older name again).
      await waitFor("A's older request to land", () => held.status !== 0, 15_000, 10);
      // It heals by itself: the instance that lost the lock left the customer to the holder.
      await waitFor('the stand-in to show the CRM again', () => standIn.store.byExternalId('1')?.fields.firstName === 'Newer', 30_000);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 20_000 });
      const lease = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM carecycle_sync.lease WHERE generation = 2');
      expect(lease[0]!.n).toBe(1);
    } finally {
      for (const s of started) s.stop.abort();
      await Promise.all(started.map((s) => s.done));
      await standIn.close();
    }
  });
});
