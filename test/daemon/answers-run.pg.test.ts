/**
 * End to end through `carecycle-sync run`: CareCycle answers in ways that must not fool the
 * daemon, and the CRM holds customers whose assembly query fails. Counts that disagree with
 * `errors` (every failure still attributed), 2xx answers shaped differently from ours (processed,
 * not retried), one record that always gets 500 and two customers whose `{sql}` fields fail
 * (each dead-lettered with its reason while the rest flows, /readyz false while nothing
 * settles), and a dead letter sent again with `dead-letters retry` once the cause is gone.
 * Then an outage (nothing dead-lettered), a proxy's HTML page in place of CareCycle (reported, nothing dead-lettered) and a key
 * rotated in its file (used without a restart).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { freshDatabase, sql } from '../harness/db.js';
import { cli, seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { slotFor } from '../source/fixtures.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';
import { testTempDir } from '../harness/tmp.js';

const KEY = 'cc_e2e_answers_0123456789';
let url: string;
let standIn: StandIn;
let config: string;
let daemon: DaemonChild | undefined;
let keyFile: string;

beforeAll(async () => {
  url = await freshDatabase('daemon-answers');
  await seedCrm(url, 24);
  // Customer 3 has two extra phones (a subquery returning two rows), customer 6 a note that is not a number.
  await sql(url, `INSERT INTO customer_phones (customer_id, phone) VALUES (2, '5550100001'), (3, '5550100002'), (3, '5550100003')`);
  await sql(url, `UPDATE customers SET notes = CASE id WHEN 4 THEN 'n:42' WHEN 6 THEN 'n:forty' ELSE notes END`);
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  keyFile = join(testTempDir('ccs-key-'), 'api-key');
  writeFileSync(keyFile, `${KEY}\n`);
  standIn.faults
    .set({ answerShape: 'drifted', countsDisagree: true })
    .rejectRecord('4', 'Carrier not recognised')
    .rejectRecord('9', 'Plan not offered');
  standIn.faults.poisonExternalIds.add('5');
  config = demoConfigFile((raw) => {
    raw.source.slot = slotFor(url);
    raw.carecycle.requestsPerMinute = 6000;
    raw.carecycle.authRetrySeconds = 0.5;
    raw.carecycle.stallSeconds = 3;
    raw.customers.fields.county = { sql: '(SELECT p.phone FROM customer_phones p WHERE p.customer_id = customers.id)' };
    raw.customers.fields.city = { sql: "CASE WHEN customers.notes LIKE 'n:%' THEN (substr(customers.notes, 3)::int)::text END" };
  });
});

afterAll(async () => {
  if (daemon) {
    daemon.kill('SIGKILL');
    await daemon.exited();
  }
  await standIn?.close();
});

const deadLetters = () =>
  sql<{ customer_key: string; reason: string; http_status: number | null }>(
    url,
    'SELECT customer_key, reason, http_status FROM carecycle_sync.dead_letters ORDER BY customer_key',
  );

describe('carecycle-sync run against answers that must not fool it', () => {
  it('attributes every failure, isolates the poison record and the failing queries, and lets the rest flow', async () => {
    daemon = startDaemonChild(config, {
      DATABASE_URL: url,
      CARECYCLE_BASE_URL: standIn.url,
      CARECYCLE_API_KEY: '',
      CARECYCLE_API_KEY_FILE: keyFile,
    } as never);
    // While the poison record is being isolated nothing settles: readiness says so.
    await waitFor(
      '/readyz to report stalled delivery',
      async () => {
        const r = await daemon!.readyz().catch(() => undefined);
        return r?.status === 503 && r.body.checks.progress?.ok === false;
      },
      60_000,
      250,
    );
    const dead = new Map(['3', '4', '5', '6', '9'].map((k) => [k, null as unknown as string]));
    await expectStandInMatchesCrm(standIn, url, { deadLettered: dead, timeoutMs: 150_000 });
    const reasons = Object.fromEntries((await deadLetters()).map((d) => [d.customer_key, [d.reason, d.http_status]]));
    expect(reasons['3']![0]).toMatch(/more than one row.*SQLSTATE 21000/);
    expect(reasons['6']![0]).toMatch(/invalid input syntax for type integer.*SQLSTATE 22P02/);
    expect(reasons['5']).toEqual(['CareCycle answered 500 8 times', 500]);
    expect(reasons['4']).toEqual(['Carrier not recognised', 200]);
    expect(reasons['9']).toEqual(['Plan not offered', 200]);
    expect(standIn.store.byExternalId('2')!.fields.county).toBe('5550100001');
    expect(standIn.store.byExternalId('4')).toBeUndefined();
    await waitFor('/readyz 200 again', async () => (await daemon!.readyz()).status === 200, 20_000, 200);
  }, 240_000);

  it('a 2xx shaped differently from ours is processed once, not retried', async () => {
    standIn.faults.set({ countsDisagree: false });
    const mark = standIn.requests.length;
    await sql(url, `UPDATE customers SET first_name = 'Drifted' WHERE id = 1`);
    await waitFor('customer 1 updated', () => standIn.store.byExternalId('1')?.fields.firstName === 'Drifted', 20_000, 50);
    await new Promise((r) => setTimeout(r, 1000));
    expect(
      standIn.requests
        .slice(mark)
        .filter((r) => r.externalIds.includes('1'))
        .map((r) => r.status),
    ).toEqual([200]);
  }, 60_000);

  it('dead-letters retry sends the poison record again once CareCycle takes it', async () => {
    standIn.faults.poisonExternalIds.clear();
    const retried = await cli(['dead-letters', 'retry', '5', '-c', config], { env: { DATABASE_URL: url } });
    expect(retried.code, retried.stderr).toBe(0);
    const dead = new Map(['3', '4', '6', '9'].map((k) => [k, null as unknown as string]));
    await expectStandInMatchesCrm(standIn, url, { deadLettered: dead, timeoutMs: 30_000 });
    expect(standIn.store.byExternalId('5')).toBeDefined();
  }, 120_000);

  it('an outage (every request fails) dead-letters nothing: /readyz reports the stall and the change goes once it ends', async () => {
    standIn.faults.set({ serverErrorRate: 1 });
    const mark = standIn.requests.length;
    await sql(url, `UPDATE customers SET first_name = 'Outage' WHERE id = 8`);
    await waitFor('/readyz to report the stall', async () => (await daemon!.readyz()).body.checks.progress?.ok === false, 30_000, 100);
    await waitFor('a few failed attempts', () => standIn.requests.slice(mark).filter((r) => r.status === 503).length >= 4, 30_000, 100);
    expect((await deadLetters()).map((d) => d.customer_key)).toEqual(['3', '4', '6', '9']);
    standIn.faults.set({ serverErrorRate: 0 });
    await waitFor(
      'customer 8 delivered after the outage',
      () => standIn.store.byExternalId('8')?.fields.firstName === 'Outage',
      60_000,
      100,
    );
    await waitFor('/readyz 200 again', async () => (await daemon!.readyz()).status === 200, 20_000, 100);
    expect((await deadLetters()).map((d) => d.customer_key)).toEqual(['3', '4', '6', '9']);
  }, 120_000);

  it("a proxy's HTML page stops delivery with a reason on /readyz, dead-letters nothing, and passes", async () => {
    standIn.faults.set({ proxyHtml: 1_000_000 });
    await sql(url, `UPDATE customers SET first_name = 'Behind proxy' WHERE id = 2`);
    await waitFor('/readyz endpoint check to fail', async () => (await daemon!.readyz()).body.checks.endpoint?.ok === false, 20_000, 100);
    const r = await daemon!.readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.endpoint!.detail).toMatch(/HTTP 400 .*not CareCycle's validation answer.*edge-proxy/);
    expect((await deadLetters()).map((d) => d.customer_key)).toEqual(['3', '4', '6', '9']);
    standIn.faults.set({ proxyHtml: 0 });
    await waitFor('customer 2 delivered', () => standIn.store.byExternalId('2')?.fields.firstName === 'Behind proxy', 20_000, 50);
    await waitFor('/readyz 200 again', async () => (await daemon!.readyz()).status === 200, 20_000, 100);
  }, 60_000);

  it('a key rotated in CARECYCLE_API_KEY_FILE is used without a restart', async () => {
    const rotated = 'cc_e2e_rotated_9876543210';
    standIn.setApiKey(rotated);
    writeFileSync(keyFile, `${rotated}\n`);
    const mark = standIn.requests.length;
    await sql(url, `UPDATE customers SET first_name = 'Rotated' WHERE id = 7`);
    await waitFor(
      'customer 7 delivered with the new key',
      () => standIn.store.byExternalId('7')?.fields.firstName === 'Rotated',
      20_000,
      50,
    );
    expect(standIn.requests.slice(mark).map((r) => r.status)).toEqual([401, 200]);
    expect(daemon!.child.exitCode).toBeNull();
    expect(JSON.stringify(daemon!.logs)).not.toContain(rotated);
  }, 60_000);
});
