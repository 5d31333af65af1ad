/**
 * End to end, data that must come out right: `carecycle-sync run` as a child process under
 * TZ=America/Los_Angeles, against a Postgres database whose TimeZone is Asia/Tokyo, with the
 * sample CRM, config/demo.yaml plus a timestamptz column mapped to a policy date, and the
 * stand-in. Cleared CRM values must be cleared in the stand-in (and cost nothing afterwards),
 * and a timestamptz takes its day in sync.timeZone, never in the session's or the process's zone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { slotFor } from '../source/fixtures.js';
import { demoConfigFile, startDaemonChild, type DaemonChild, type DaemonEnv } from './daemon-child.js';
import { expectStandInMatchesCrm } from './standin-vs-crm.js';

const KEY = 'cc_e2e_data_0123456789abcdef';
const SEED = 12;

let url: string;
let crm: pg.Client;
let standIn: StandIn;
let daemon: DaemonChild | undefined;
const applied: AcaRecord[] = [];

const q = async (text: string, params: unknown[] = []) => (await crm.query(text, params)).rows;
const appliedFor = (key: string, since = 0) => applied.slice(since).filter((r) => r.externalId === key);
const requestsFor = (key: string, since: number) => standIn.requests.slice(since).filter((r) => r.externalIds.includes(key));
const match = () => expectStandInMatchesCrm(standIn, url, { timeoutMs: 30_000 });

beforeAll(async () => {
  url = await freshDatabase('daemon-data-run');
  await seedCrm(url, SEED);
  const db = new URL(url).pathname.slice(1);
  await sql(url, `ALTER DATABASE "${db}" SET timezone = 'Asia/Tokyo'`);
  await sql(url, `ALTER TABLE policies ADD COLUMN signed_at timestamptz`);
  // 03:00 UTC on March 1st is March 1st in UTC and Tokyo, and February 29th in Los Angeles;
  // 16:00 UTC is March 1st in UTC and Los Angeles, and March 2nd in Tokyo.
  await sql(
    url,
    `UPDATE policies SET signed_at = CASE WHEN id % 2 = 0 THEN timestamptz '2024-03-01 03:00:00+00' ELSE timestamptz '2024-03-01 16:00:00+00' END`,
  );
  crm = new pg.Client({ connectionString: url });
  await crm.connect();
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  const apply = standIn.store.apply.bind(standIn.store);
  standIn.store.apply = (record, now) => {
    applied.push(structuredClone(record));
    return apply(record, now);
  };
});

afterAll(async () => {
  if (daemon) {
    daemon.kill('SIGKILL');
    await daemon.exited();
  }
  await crm?.end();
  await standIn?.close();
});

describe('carecycle-sync run: cleared values and time zones', () => {
  it('sends a timestamptz as its UTC day, whatever TZ the daemon and the session have', async () => {
    const config = demoConfigFile((raw) => {
      raw.source.slot = slotFor(url);
      raw.carecycle.requestsPerMinute = 6000;
      raw.policies.fields.enrollmentDate = { column: 'signed_at', transform: 'date' };
    });
    const env: DaemonEnv & { TZ: string } = {
      DATABASE_URL: url,
      CARECYCLE_BASE_URL: standIn.url,
      CARECYCLE_API_KEY: KEY,
      TZ: 'America/Los_Angeles',
    };
    daemon = startDaemonChild(config, env);
    await match();
    const enrollment = standIn.store.all().flatMap((c) => c.policies.map((p) => p.fields.enrollmentDate));
    expect(enrollment.length).toBeGreaterThan(SEED);
    expect(new Set(enrollment)).toEqual(new Set(['03-01-2024']));
  }, 60_000);

  it('a value cleared in the CRM is cleared in CareCycle, once, and costs nothing afterwards', async () => {
    expect(standIn.store.byExternalId('3')!.fields.email).toBe('customer3@example.com');
    const [p] = await q(`SELECT id, hs_policy_id AS hs FROM policies WHERE customer_id = 5 ORDER BY id LIMIT 1`);
    const mark = applied.length;
    await q(`UPDATE customers SET email = NULL WHERE id = 3`);
    await q(`UPDATE customers SET lead_source = '  ', email = '' WHERE id = 4`);
    await q(`UPDATE policies SET premium = NULL WHERE id = $1`, [p!.id]);
    await match();
    expect(standIn.store.byExternalId('3')!.fields.email).toBeUndefined();
    expect(standIn.store.byExternalId('4')!.fields).not.toHaveProperty('email');
    expect(standIn.store.byExternalId('4')!.fields.customFields).toEqual([]);
    const policy = standIn.store.byExternalId('5')!.policies.find((x) => x.fields.healthSherpaPolicyId === p!.hs)!;
    expect(policy.fields).not.toHaveProperty('monthlyPremium');
    expect(appliedFor('3', mark).map((r) => r.email)).toEqual([null]);
    expect(appliedFor('4', mark).map((r) => [r.email, r.customFields])).toEqual([[null, [{ fieldKey: 'lead_source', value: null }]]]);

    // No phantom change: touching the cleared customers again sends nothing for them, while a
    // real change made after it arrives.
    const mark2 = standIn.requests.length;
    await q(`UPDATE customers SET notes = 'cleared before' WHERE id IN (3, 4)`);
    await q(`UPDATE policies SET updated_at = now() WHERE id = $1`, [p!.id]);
    await q(`UPDATE customers SET first_name = 'After' WHERE id = 6`);
    await waitFor('the change after them to arrive', () => standIn.store.byExternalId('6')!.fields.firstName === 'After', 20_000);
    await match();
    expect(requestsFor('3', mark2)).toEqual([]);
    expect(requestsFor('4', mark2)).toEqual([]);
    expect(requestsFor('5', mark2)).toEqual([]);

    // A later change to a cleared customer carries no null for the field cleared before.
    const mark3 = applied.length;
    await q(`UPDATE customers SET last_name = 'Cleared' WHERE id = 3`);
    await match();
    expect(appliedFor('3', mark3)).toHaveLength(1);
    expect(appliedFor('3', mark3)[0]).not.toHaveProperty('email');
  }, 60_000);

  it('stops cleanly', async () => {
    const t0 = Date.now();
    daemon!.kill('SIGTERM');
    const exit = await daemon!.exited(t0);
    expect(exit.code).toBe(0);
    daemon = undefined;
  }, 30_000);
});
