/**
 * A policy hard-deleted while the first send carrying it is in flight. Under the default replica
 * identity the delete carries only the policy key, which capture resolves through the policies
 * last sent; this one is not recorded yet (its send has not settled), so without care the delete
 * is dropped and CareCycle keeps the policy Active forever.
 */
import { describe, expect, it } from 'vitest';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm, demoRaw } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_policy_delete_0123456789';

describe('a policy deleted while its first send is in flight', { timeout: 120_000 }, () => {
  it('reaches CareCycle as Cancelled', async () => {
    const url = await freshDatabase('policy-delete-in-flight');
    await seedCrm(url, 3);
    const standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    const raw = demoRaw(url);
    raw.source.slot = slotFor(url);
    raw.source.heartbeatSeconds = 1;
    raw.carecycle = { baseUrl: standIn.url, apiKey: KEY, requestsPerMinute: 6000, timeoutMs: 10_000 };
    raw.sync = { ...raw.sync, flushIntervalMs: 50 };
    const daemon = await startDaemon({
      config: validateConfig(raw),
      configPath: 'policy-delete-test',
      log: silentLogger(),
      port: null,
      idlePollMs: 50,
    });
    const stop = new AbortController();
    const done = daemon.run(stop.signal, new AbortController().signal).catch(() => undefined);
    try {
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });
      standIn.faults.set({ latencyMs: 1500 });
      const mark = standIn.requests.length;
      const [p] = await sql<{ id: string }>(
        url,
        `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
        VALUES (2, 'HS-NEW', 'CP-NEW', 'active', current_date - 3, 123.45) RETURNING id::text AS id`,
      );
      await waitFor(
        'the send carrying the new policy to be in flight',
        () => standIn.requests.slice(mark).some((r) => r.externalIds.includes('2')),
        10_000,
        5,
      );
      standIn.faults.set({ latencyMs: 0 });
      await sql(url, 'DELETE FROM policies WHERE id = $1', [p!.id]);
      await waitFor(
        'the first send to land',
        () => standIn.store.byExternalId('2')?.policies.some((x) => x.fields.healthSherpaPolicyId === 'HS-NEW') === true,
        10_000,
        10,
      );
      await waitFor(
        'the delete to reach CareCycle',
        () =>
          standIn.store.byExternalId('2')?.policies.find((x) => x.fields.healthSherpaPolicyId === 'HS-NEW')?.fields.status === 'Cancelled',
        20_000,
      );
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 20_000 });
      // Nothing is left over once resolved.
      expect(await sql(url, 'SELECT policy_key FROM carecycle_sync.unresolved_policy_changes')).toEqual([]);
    } finally {
      stop.abort();
      await done;
      await standIn.close();
    }
  });
});
