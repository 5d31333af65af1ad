/**
 * Data that must come out right, through the delivery loop against a real state store, the
 * sample CRM and the stand-in: cleared values clear, a delete + re-insert of a policy keeps the
 * new row's status, an unknown outcome is never taken for a success, and the restore of
 * auto-terminated policies goes at live priority and survives a send that creates a policy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';
import { mappedTables, prepareAssembler } from '../../src/assemble/index.js';
import { createDeliveryClient, type DeliveryClient } from '../../src/deliver/index.js';
import { createDeliveryLoop, type DeliveryLoop } from '../../src/deliver/loop.js';
import { takeHeldLease } from '../../src/queue/lease.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { enqueueKeys } from '../../src/queue/enqueue.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { crmWithState, demoConfig } from '../backfill/fixture.js';
import { sql } from '../harness/db.js';
import { waitFor } from '../source/helpers.js';
import { API_KEY } from './helpers.js';

let url: string;
let crm: pg.Pool;
let state: StateDb;
let standIn: StandIn;
let client: DeliveryClient;
let loop: DeliveryLoop;
const applied: AcaRecord[] = [];

const q = (text: string, params: unknown[] = []) => sql(url, text, params);
const stored = (key: string) => standIn.store.byExternalId(key)!;
const appliedFor = (key: string, since: number) => applied.slice(since).filter((r) => r.externalId === key);
/** Enqueues the keys (what capture does for a change) and runs one pass. */
const pass = async (keys: string[], priority = 0) => {
  await enqueueKeys(state, keys, priority);
  return loop.once();
};

beforeAll(async () => {
  url = await crmWithState('delivery-data', 8);
  const config = demoConfig(url);
  crm = new pg.Pool({ connectionString: url, max: 2 });
  state = openStateDb(config, { max: 3 });
  standIn = await startStandIn({ apiKey: API_KEY, rpm: 6000 });
  const apply = standIn.store.apply.bind(standIn.store);
  standIn.store.apply = (record, now) => {
    applied.push(structuredClone(record));
    return apply(record, now);
  };
  client = createDeliveryClient({ baseUrl: standIn.url, apiKey: API_KEY, requestsPerMinute: 6000, timeoutMs: 10_000, log: silentLogger() });
  const assembler = await prepareAssembler({ config, crm, state, catalog: await readCatalog(crm, mappedTables(config)) });
  const { lease } = await takeHeldLease(state, config.source.slot);
  loop = createDeliveryLoop({ state, assembler, client, log: silentLogger(), batchSize: 100, lease: () => lease });
});

afterAll(async () => {
  await client?.close();
  await standIn?.close();
  await state?.close();
  await crm?.end();
});

beforeEach(async () => {
  standIn.faults.reset();
  // Each case starts from an empty queue, whatever the one before left.
  await q('DELETE FROM carecycle_sync.pending');
});

describe('cleared values clear', () => {
  it('a value that becomes NULL or blank is sent once as null and cleared; the next pass is unchanged', async () => {
    expect(await pass(['1'])).toMatchObject({ delivered: 1 });
    expect(stored('1').fields).toMatchObject({
      email: 'customer1@example.com',
      customFields: [{ fieldKey: 'lead_source', value: 'referral' }],
    });
    const [p] = await q(`SELECT id, hs_policy_id AS hs FROM policies WHERE customer_id = 1 ORDER BY id LIMIT 1`);
    const mark = applied.length;
    await q(`UPDATE customers SET email = NULL, lead_source = '   ' WHERE id = 1`);
    await q(`UPDATE policies SET premium = NULL WHERE id = $1`, [p!.id]);
    expect(await pass(['1'])).toMatchObject({ delivered: 1 });
    const [sentRecord] = appliedFor('1', mark);
    expect(sentRecord!.email).toBeNull();
    expect(sentRecord!.customFields).toEqual([{ fieldKey: 'lead_source', value: null }]);
    expect(sentRecord!.policies!.find((x) => x.healthSherpaPolicyId === p!.hs)).toMatchObject({ monthlyPremium: null });
    expect(stored('1').fields.email).toBeUndefined();
    expect(stored('1').fields.customFields).toEqual([]);
    expect(stored('1').policies.find((x) => x.fields.healthSherpaPolicyId === p!.hs)!.fields.monthlyPremium).toBeUndefined();
    // Sent as null once, absent now: the same state, no phantom change.
    expect(await pass(['1'])).toMatchObject({ delivered: 0, skipped: 1 });
    // A real change later carries no null for fields already cleared.
    await q(`UPDATE customers SET first_name = 'Cleo' WHERE id = 1`);
    expect(await pass(['1'])).toMatchObject({ delivered: 1 });
    const later = appliedFor('1', mark).at(-1)!;
    expect(later.firstName).toBe('Cleo');
    expect('email' in later).toBe(false);
    expect(later.customFields).toBeUndefined();
  });

  it('a field never sent with a value stays omitted, so what CareCycle got elsewhere is kept', async () => {
    await q(`UPDATE customers SET sex = NULL WHERE id = 2`);
    expect(await pass(['2'])).toMatchObject({ delivered: 1 });
    stored('2').fields.gender = 'Female'; // an agent's edit in CareCycle
    const mark = applied.length;
    await q(`UPDATE customers SET last_name = 'Agentless' WHERE id = 2`);
    expect(await pass(['2'])).toMatchObject({ delivered: 1 });
    expect('gender' in appliedFor('2', mark)[0]!).toBe(false);
    expect(stored('2').fields.gender).toBe('Female');
  });
});

describe('a policy deleted and inserted again with the same identifiers', () => {
  it("keeps the new row's status instead of Cancelled, and later changes are sent", async () => {
    expect(await pass(['3'])).toMatchObject({ delivered: 1 });
    const [old] = await q(`SELECT id, hs_policy_id AS hs, carrier_policy_id AS cp FROM policies WHERE customer_id = 3 ORDER BY id LIMIT 1`);
    // A CRM that saves an edit as delete + insert: a new key, the same CareCycle identifiers.
    await q(`DELETE FROM policies WHERE id = $1`, [old!.id]);
    await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium) VALUES (3, $1, $2, 'active', current_date - 10, 321.00)`,
      [old!.hs, old!.cp],
    );
    expect(await pass(['3'])).toMatchObject({ delivered: 1 });
    const policy = () => stored('3').policies.filter((x) => x.fields.healthSherpaPolicyId === old!.hs);
    expect(policy()).toHaveLength(1);
    expect(policy()[0]!.fields).toMatchObject({ status: 'Active', monthlyPremium: '321.00' });
    await q(`UPDATE policies SET premium = 322.00 WHERE hs_policy_id = $1`, [old!.hs]);
    expect(await pass(['3'])).toMatchObject({ delivered: 1 });
    expect(policy()[0]!.fields).toMatchObject({ status: 'Active', monthlyPremium: '322.00' });
  });
});

describe('an unknown outcome is not a success', () => {
  it('stored S2 then the connection dropped, hard abort, CRM back to S1: S1 is sent again', async () => {
    await q(`UPDATE customers SET email = NULL WHERE id = 4`);
    expect(await pass(['4'])).toMatchObject({ delivered: 1 });
    const s1 = await q(`SELECT first_name FROM customers WHERE id = 4`);
    // S2: another first name, and an email that S1 does not have.
    await q(`UPDATE customers SET first_name = 'Second', email = 'second@example.com' WHERE id = 4`);
    standIn.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    const mark = standIn.requests.length;
    const hard = new AbortController();
    await enqueueKeys(state, ['4'], 0);
    const lost = loop.once(undefined, hard.signal);
    await waitFor(
      'the stand-in to store S2 and drop the connection',
      () => standIn.requests.slice(mark).some((r) => r.fault === 'drop-after-processing'),
      10_000,
      5,
    );
    hard.abort(new Error('drain deadline'));
    await expect(lost).rejects.toThrow('drain deadline');
    expect(stored('4').fields).toMatchObject({ firstName: 'Second', email: 'second@example.com' });

    await q(`UPDATE customers SET first_name = $1, email = NULL WHERE id = 4`, [s1[0]!.first_name]);
    expect(await pass(['4'])).toMatchObject({ delivered: 1, skipped: 0 });
    expect(stored('4').fields.firstName).toBe(s1[0]!.first_name);
    expect(stored('4').fields.email).toBeUndefined();
    expect(await pass(['4'])).toMatchObject({ delivered: 0, skipped: 1 });
  });

  it('a policy that a lost request created is cancelled when it vanishes from the CRM', async () => {
    expect(await pass(['5'])).toMatchObject({ delivered: 1 });
    const [p] = await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium) VALUES (5, 'HS-LOST-1', 'CP-LOST-1', 'active', current_date, 50) RETURNING id`,
    );
    standIn.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    const mark = standIn.requests.length;
    const hard = new AbortController();
    await enqueueKeys(state, ['5'], 0);
    const lost = loop.once(undefined, hard.signal);
    await waitFor(
      'the stand-in to store the policy and drop the connection',
      () => standIn.requests.slice(mark).some((r) => r.fault === 'drop-after-processing'),
      10_000,
      5,
    );
    hard.abort(new Error('drain deadline'));
    await expect(lost).rejects.toThrow('drain deadline');
    const policy = () => stored('5').policies.find((x) => x.fields.healthSherpaPolicyId === 'HS-LOST-1')?.fields.status;
    expect(policy()).toBe('Active');
    await q(`DELETE FROM policies WHERE id = $1`, [p!.id]);
    expect(await pass(['5'])).toMatchObject({ delivered: 1 });
    expect(policy()).toBe('Cancelled');
  });

  it('a policy whose status a lost request changed is cancelled when it vanishes', async () => {
    const [p] = await q(
      `UPDATE policies SET status = 'cancelled' WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 6) RETURNING id, hs_policy_id AS hs`,
    );
    expect(await pass(['6'])).toMatchObject({ delivered: 1 });
    const status = () => stored('6').policies.find((x) => x.fields.healthSherpaPolicyId === p!.hs)!.fields.status;
    expect(status()).toBe('Cancelled');
    // Reactivated; CareCycle applies it, but the answer is lost.
    await q(`UPDATE policies SET status = 'active' WHERE id = $1`, [p!.id]);
    standIn.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    const mark = standIn.requests.length;
    const hard = new AbortController();
    await enqueueKeys(state, ['6'], 0);
    const lost = loop.once(undefined, hard.signal);
    await waitFor(
      'the stand-in to store it and drop the connection',
      () => standIn.requests.slice(mark).some((r) => r.fault === 'drop-after-processing'),
      10_000,
      5,
    );
    hard.abort(new Error('drain deadline'));
    await expect(lost).rejects.toThrow('drain deadline');
    expect(status()).toBe('Active');
    await q(`DELETE FROM policies WHERE id = $1`, [p!.id]);
    expect(await pass(['6'])).toMatchObject({ delivered: 1 });
    expect(status()).toBe('Cancelled');
  });

  it('a split customer with one part accepted and the other refused is sent whole again', async () => {
    const [c] = await q(
      `INSERT INTO customers (first_name, last_name, phone, zip, birth_date, sex) VALUES ('Sam', 'Split', '555-010-3131', '02134', '1970-01-01', 'M') RETURNING id::text AS id`,
    );
    const key = c!.id as string;
    await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
             SELECT $1::bigint, 'HS-SPLIT-' || n, 'CP-SPLIT-' || n, 'active', current_date - n, 100 FROM generate_series(1, 11) AS n`,
      [key],
    );
    expect(await pass([key])).toMatchObject({ delivered: 1 });
    const first = await q(`SELECT first_name FROM customers WHERE id = $1`, [key]);
    await q(`UPDATE customers SET first_name = 'Samuel' WHERE id = $1`, [key]);
    // The first part is applied; the second is refused (a per-record error for the customer).
    const apply = standIn.store.apply.bind(standIn.store);
    let parts = 0;
    standIn.store.apply = (record, now) => {
      if (record.externalId === key && ++parts === 1) standIn.faults.rejectRecord(key, 'refused for the test');
      return apply(record, now);
    };
    try {
      expect(await pass([key])).toMatchObject({ delivered: 0, deadLettered: 1 });
    } finally {
      standIn.store.apply = apply;
      standIn.faults.reset();
    }
    expect(stored(key).fields.firstName).toBe('Samuel');
    await q(`UPDATE customers SET first_name = $1 WHERE id = $2`, [first[0]!.first_name, key]);
    expect(await pass([key])).toMatchObject({ delivered: 1, skipped: 0 });
    expect(stored(key).fields.firstName).toBe(first[0]!.first_name);
  });
});

describe('restoring policies CareCycle terminated by itself', () => {
  async function oldCustomer(tag: string): Promise<string> {
    const [c] = await q(
      `INSERT INTO customers (first_name, last_name, phone, zip, birth_date, sex) VALUES ('Olga', $1, '555-010-4242', '02134', '1960-05-05', 'F') RETURNING id::text AS id`,
      [tag],
    );
    const key = c!.id as string;
    await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
             SELECT $1::bigint, 'HS-' || $2 || '-' || n, 'CP-' || $2 || '-' || n, 'active', current_date - 730 - n, 100 FROM generate_series(1, 11) AS n`,
      [key, tag],
    );
    return key;
  }
  const statuses = (key: string) => stored(key).policies.map((p) => p.fields.status);
  const priority = async (key: string) =>
    (await q(`SELECT priority FROM carecycle_sync.pending WHERE customer_key = $1`, [key]))[0]?.priority;

  it('a customer that came with a backfill is restored at live priority', async () => {
    const key = await oldCustomer('BF');
    expect(await pass([key], 1)).toMatchObject({ delivered: 1, autoTerminated: 10 });
    expect(await priority(key)).toBe(0);
    expect(await loop.once()).toMatchObject({ delivered: 1, autoTerminated: 0 });
    expect(statuses(key)).toEqual(Array(11).fill('Active'));
  });

  it('a restore send that itself creates a policy is restored once more, not left Terminated', async () => {
    const key = await oldCustomer('NEW');
    expect(await pass([key])).toMatchObject({ delivered: 1, autoTerminated: 10 });
    // Before the restore goes, the CRM gets a new policy: the restore send creates it, and
    // CareCycle terminates the year-old ones again.
    await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium) VALUES ($1, 'HS-NEW-12', 'CP-NEW-12', 'active', current_date, 100)`,
      [key],
    );
    expect(await loop.once()).toMatchObject({ delivered: 1, autoTerminated: 10, requeued: 1 });
    expect(await loop.once()).toMatchObject({ delivered: 1, autoTerminated: 0, requeued: 0 });
    expect(statuses(key)).toEqual(Array(12).fill('Active'));
    expect(await q(`SELECT 1 FROM carecycle_sync.pending WHERE customer_key = $1`, [key])).toEqual([]);
  });
});
