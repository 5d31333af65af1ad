/**
 * A mass cancellation waits for a person. 500 customers with one synced policy each; then a
 * `DELETE FROM policies` takes them all. Through the real `run` process at 60 requests a
 * minute: at most the threshold (50 here: the larger of 50 and 10 % of 500) plus one batch of
 * cancellations reach CareCycle, `status --json` and `/readyz` show the hold, and
 * `approve --yes` sends the rest within two minutes.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { freshDatabase, sql } from '../harness/db.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { seedCrm } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_mass_cancel_0123456789abcdef';

describe('the mass-cancellation rail', { timeout: 240_000 }, () => {
  it('holds a book-wide cancellation until approve --yes, while the rest flows', async () => {
    const url = await freshDatabase('mass-cancellation');
    await seedCrm(url, 500);
    await sql(
      url,
      `DELETE FROM policies p WHERE p.id <> (SELECT min(id) FROM policies q WHERE q.customer_id = p.customer_id);
                    UPDATE policies SET status = 'active', effective_date = current_date - (id % 300)::int`,
    );
    const standIn = await startStandIn({ apiKey: KEY, rpm: 60 });
    const config = demoConfigFile((raw) => {
      raw.source.slot = slotFor(url);
      raw.source.heartbeatSeconds = 1;
      raw.carecycle = { ...raw.carecycle, requestsPerMinute: 60 };
    });
    const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, cliArgs(...args, '--config', config), { env: { ...process.env, ...env }, encoding: 'utf8' });
    const cancelled = () => standIn.store.all().reduce((n, c) => n + c.policies.filter((p) => p.fields.status === 'Cancelled').length, 0);
    let daemon: DaemonChild | undefined;
    try {
      daemon = startDaemonChild(config, env);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 60_000 });
      expect(cancelled()).toBe(0);

      await sql(url, 'DELETE FROM policies');
      await daemon.sawLog('the hold', (l) => /MASS CANCELLATION HELD/.test(String(l.msg)), 60_000);
      const status = await waitForHeld(cli);
      expect(status.held.customers + cancelled()).toBe(500);
      expect(status.held.policies).toBe(status.held.customers);
      expect(status.held.reason).toMatch(/sync\.safety\.maxCancellations/);
      // Nothing else is in flight: what reached CareCycle is all that went before the hold.
      await new Promise((r) => setTimeout(r, 3000));
      const before = cancelled();
      console.log(`[mass-cancellation] cancellations that reached the stand-in before approval: ${before}; held: ${status.held.customers}`);
      expect(before).toBeLessThanOrEqual(50 + 100);
      const ready = await daemon.readyz();
      expect(ready.status).toBe(503);
      expect(ready.body.checks.safety).toMatchObject({ ok: false });
      // The rest keeps flowing meanwhile (every existing customer's record cancels its policy).
      const [c] = await sql<{ id: string }>(
        url,
        `INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, lead_source)
        VALUES ('Flo', 'Wing', '555-010-4444', 'flo@example.com', '60601', '1990-03-04', 'F', 'web') RETURNING id::text AS id`,
      );
      await waitFor(
        'a new customer to reach CareCycle during the hold',
        () => standIn.store.byExternalId(c!.id)?.fields.firstName === 'Flo',
        30_000,
      );

      expect(cli('approve')).toContain('approve --yes');
      const t0 = Date.now();
      expect(cli('approve', '--yes')).toMatch(/^Approved: /);
      await waitFor('every cancellation in CareCycle', () => cancelled() === 500, 120_000, 200);
      console.log(
        `[mass-cancellation] approve --yes → all 500 cancelled in ${((Date.now() - t0) / 1000).toFixed(1)} s at 60 requests a minute`,
      );
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });
      const after = JSON.parse(cli('status', '--json'));
      expect(after.held).toBeUndefined();
      await waitFor('ready again', async () => (await daemon!.readyz()).status === 200, 30_000, 250);
    } finally {
      daemon?.kill('SIGKILL');
      await daemon?.exited();
      await standIn.close();
    }
  });
});

describe('the mass-cancellation rail, when the CRM is fixed', { timeout: 240_000 }, () => {
  it('releases the held records by itself once they no longer cancel anything', async () => {
    const url = await freshDatabase('mass-cancellation-restored');
    await seedCrm(url, 120);
    await sql(url, `UPDATE policies SET status = 'active', effective_date = current_date - (id % 300)::int`);
    const standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    const config = demoConfigFile((raw) => {
      raw.source.slot = slotFor(url);
      raw.source.heartbeatSeconds = 1;
      raw.carecycle = { ...raw.carecycle, requestsPerMinute: 6000 };
    });
    const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, cliArgs(...args, '--config', config), { env: { ...process.env, ...env }, encoding: 'utf8' });
    let daemon: DaemonChild | undefined;
    try {
      daemon = startDaemonChild(config, env);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 60_000 });
      // A bad job deletes the book; someone restores it from a backup a moment later.
      await sql(url, 'CREATE TABLE policies_backup AS SELECT * FROM policies; DELETE FROM policies');
      await daemon.sawLog('the hold', (l) => /MASS CANCELLATION HELD/.test(String(l.msg)), 60_000);
      await sql(url, 'INSERT INTO policies SELECT * FROM policies_backup');
      await waitFor('the hold to end by itself', () => JSON.parse(cli('status', '--json')).held === undefined, 90_000, 1000);
      await expectStandInMatchesCrm(standIn, url, { timeoutMs: 60_000 });
    } finally {
      daemon?.kill('SIGKILL');
      await daemon?.exited();
      await standIn.close();
    }
  });
});

async function waitForHeld(cli: (...a: string[]) => string): Promise<{ held: { customers: number; policies: number; reason: string } }> {
  let s: { held?: { customers: number; policies: number; reason: string } } = {};
  let last = -1;
  // The hold grows batch by batch until every cancelling record was seen once.
  await waitFor(
    'the hold to settle',
    () => {
      s = JSON.parse(cli('status', '--json'));
      const n = s.held?.customers ?? 0;
      const steady = n > 0 && n === last;
      last = n;
      return steady && (s as { queue?: { live?: { keys: number } } }).queue?.live?.keys === n;
    },
    90_000,
    1500,
  );
  return s as { held: { customers: number; policies: number; reason: string } };
}
