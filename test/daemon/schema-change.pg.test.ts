/**
 * A schema change never stops the stream. A mapped column is renamed in the CRM while `run`
 * streams: capture goes on, the customers that changed wait as dead letters naming the config
 * key (none is sent without the field), and once the config is fixed and `run` restarted they
 * are delivered without a manual retry.
 */
import { describe, expect, it } from 'vitest';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_schema_change_0123456789';

describe('a mapped column renamed in the CRM', { timeout: 120_000 }, () => {
  it('holds the changed customers as dead letters naming the config key, and delivers them once the config is fixed', async () => {
    const url = await freshDatabase('schema-change');
    await seedCrm(url, 5);
    const standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    const common = (raw: any) => {
      raw.source.slot = slotFor(url);
      raw.source.heartbeatSeconds = 1;
      raw.carecycle = { ...raw.carecycle, requestsPerMinute: 6000 };
    };
    const before = demoConfigFile(common);
    const fixed = demoConfigFile((raw) => {
      common(raw);
      raw.customers.fields.email = 'email_address';
    });
    const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
    let daemon: DaemonChild | undefined;
    try {
      daemon = startDaemonChild(before, env);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });
      const email = standIn.store.byExternalId('2')!.fields.email;

      await sql(url, 'ALTER TABLE customers RENAME COLUMN email TO email_address');
      await sql(url, `UPDATE customers SET email_address = 'new-2@example.com', first_name = 'Renamed' WHERE id = 2`);
      const dead = async () =>
        sql<{ customer_key: string; reason: string; field_path: string | null }>(
          url,
          'SELECT customer_key, reason, field_path FROM carecycle_sync.dead_letters',
        );
      await waitFor('customer 2 to wait as a dead letter', async () => (await dead()).some((d) => d.customer_key === '2'), 30_000);
      const [d] = await dead();
      expect(d).toMatchObject({ customer_key: '2', field_path: 'customers.fields.email' });
      expect(d!.reason).toMatch(/^the CRM schema changed: customers\.fields\.email: .*email/);
      // Capture goes on, and nothing was sent without the field.
      expect((await daemon.readyz()).body.checks.replication).toMatchObject({ ok: true });
      expect(standIn.store.byExternalId('2')!.fields).toMatchObject({ email });
      expect(standIn.store.byExternalId('2')!.fields.firstName).not.toBe('Renamed');
      daemon.kill('SIGTERM');
      expect((await daemon.exited()).code).toBe(0);

      daemon = startDaemonChild(fixed, env);
      await waitFor(
        'the fixed config to deliver customer 2',
        () => standIn.store.byExternalId('2')?.fields.firstName === 'Renamed',
        30_000,
      );
      expect(standIn.store.byExternalId('2')!.fields.email).toBe('new-2@example.com');
      expect(await dead()).toEqual([]);
    } finally {
      daemon?.kill('SIGKILL');
      await daemon?.exited();
      await standIn.close();
    }
  });
});
