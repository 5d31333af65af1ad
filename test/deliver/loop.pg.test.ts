/**
 * The delivery loop against a real state store, the sample CRM and the stand-in: what one
 * claim → send → settle pass leaves behind when the queue moves under it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { mappedTables, prepareAssembler } from '../../src/assemble/index.js';
import { createDeliveryClient, type DeliveryClient } from '../../src/deliver/index.js';
import { createDeliveryLoop, type DeliveryLoop } from '../../src/deliver/loop.js';
import { takeHeldLease } from '../../src/queue/lease.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { UNKNOWN_OUTCOME_HASH } from '../../src/queue/unknown-outcome.js';
import { enqueueKeys, writeBatch } from '../../src/queue/enqueue.js';
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

const pending = async () =>
  (await sql<{ k: string; v: string }>(url, 'SELECT customer_key AS k, version::text AS v FROM carecycle_sync.pending ORDER BY 1')).map(
    (r) => r.k,
  );
const inFlight = (since: number) =>
  waitFor('a request in flight', () => standIn.requests.slice(since).some((r) => r.status === 0), 10_000, 5);

beforeAll(async () => {
  url = await crmWithState('delivery-loop', 6);
  const config = demoConfig(url);
  crm = new pg.Pool({ connectionString: url, max: 2 });
  state = openStateDb(config, { max: 3 });
  standIn = await startStandIn({ apiKey: API_KEY, rpm: 6000 });
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

beforeEach(() => {
  standIn.faults.reset();
});

describe('delivery loop', () => {
  it('keeps a key that was re-queued while its request was in flight, and sends it again', async () => {
    await enqueueKeys(state, ['1', '2'], 0);
    standIn.faults.set({ latencyMs: 300 });
    const mark = standIn.requests.length;
    const pass = loop.once();
    await inFlight(mark);
    await sql(url, `UPDATE customers SET first_name = 'Changed' WHERE id = 1`);
    await enqueueKeys(state, ['1'], 0); // what capture does for that change
    expect(await pass).toMatchObject({ keys: 2, delivered: 2, requeued: 1 });
    expect(await pending()).toEqual(['1']);
    expect(standIn.store.byExternalId('1')!.fields.firstName).not.toBe('Changed');
    // The settled customer has its hash and policy identifiers stored.
    const sent = await sql(url, `SELECT customer_key, payload_hash FROM carecycle_sync.sent ORDER BY 1`);
    expect(sent.map((s) => s.customer_key)).toEqual(['1', '2']);
    expect(sent.every((s) => /^[0-9a-f]{64}$/.test(s.payload_hash))).toBe(true);
    const policies = await sql(
      url,
      `SELECT p.identifiers->>'healthSherpaPolicyId' AS hs FROM carecycle_sync.sent_policies p WHERE customer_key = '2' ORDER BY 1`,
    );
    const crmPolicies = await sql(url, `SELECT hs_policy_id AS hs FROM policies WHERE customer_id = 2 ORDER BY 1`);
    expect(policies).toEqual(crmPolicies);

    standIn.faults.set({ latencyMs: 0 });
    expect(await loop.once()).toMatchObject({ keys: 1, delivered: 1, requeued: 0 });
    expect(await pending()).toEqual([]);
    expect(standIn.store.byExternalId('1')!.fields.firstName).toBe('Changed');
  });

  it('the drain deadline (hard abort) leaves the claimed keys pending and their outcome recorded as unknown', async () => {
    await enqueueKeys(state, ['3', '4'], 0);
    standIn.faults.set({ latencyMs: 2000 });
    const mark = standIn.requests.length;
    const soft = new AbortController();
    const hard = new AbortController();
    const pass = loop.once(soft.signal, hard.signal);
    await inFlight(mark);
    soft.abort(new Error('SIGTERM'));
    hard.abort(new Error('drain deadline'));
    await expect(pass).rejects.toThrow('drain deadline');
    expect(await pending()).toEqual(['3', '4']);
    // The request may have been applied: no hash of it is recorded as delivered, and none that
    // a later pass could take for CareCycle's state.
    const sent = await sql(url, `SELECT payload_hash FROM carecycle_sync.sent WHERE customer_key IN ('3', '4')`);
    expect(sent.map((s) => s.payload_hash)).toEqual([UNKNOWN_OUTCOME_HASH, UNKNOWN_OUTCOME_HASH]);
  });

  it('a soft stop (SIGTERM) lets the request in flight finish and settle, then run() returns', async () => {
    await enqueueKeys(state, ['5'], 0);
    standIn.faults.set({ latencyMs: 500 });
    const mark = standIn.requests.length;
    const soft = new AbortController();
    const running = loop.run(soft.signal, new AbortController().signal);
    await inFlight(mark);
    soft.abort(new Error('SIGTERM'));
    await running;
    expect(await pending()).toEqual([]);
    expect(standIn.requests.slice(mark).map((r) => [r.status, r.records])).toEqual([[200, 3]]);
  });

  it('a new policy CareCycle applied from a batch that never settled is still cancelled when the CRM deletes it', async () => {
    const [p] = await sql<{ id: string }>(
      url,
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
      VALUES (6, 'HS-UNSETTLED', 'CP-UNSETTLED', 'active', current_date - 5, 99) RETURNING id::text AS id`,
    );
    await enqueueKeys(state, ['6'], 0);
    // CareCycle stores the records, then the connection drops; the process goes down (the hard
    // abort here) before the retry, so nothing settles: the outcome is unknown to the daemon.
    standIn.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    const hard = new AbortController();
    const mark = standIn.requests.length;
    const pass = loop.once(undefined, hard.signal);
    await waitFor(
      'the dropped request',
      () => standIn.requests.slice(mark).some((r) => r.status === 0 && r.fault === 'drop-after-processing'),
      10_000,
      5,
    );
    hard.abort(new Error('process down'));
    await expect(pass).rejects.toThrow();
    standIn.faults.reset();
    const stored = () =>
      standIn.store.byExternalId('6')!.policies.find((x) => x.fields.healthSherpaPolicyId === 'HS-UNSETTLED')?.fields.status;
    expect(stored()).toBe('Active');
    // The CRM deletes the policy; capture sees only its key and resolves it through what was sent.
    await sql(url, 'DELETE FROM policies WHERE id = $1', [p!.id]);
    await writeBatch(state, { keys: [], priority: 0, policyKeys: [p!.id], deletedPolicyKeys: [p!.id] });
    while ((await pending()).length > 0) await loop.once();
    expect(stored()).toBe('Cancelled');
  });

  it('a split customer whose year-old policies CareCycle terminated on its own is sent once more and ends as in the CRM', async () => {
    // 11 policies effective two years ago: two records. The second one creates policy 11,
    // and CareCycle then terminates the customer's year-old policies (docs/carecycle-api.md, A17),
    // i.e. the ten of the first record, which the CRM still has as active.
    const [c] = await sql<{ id: string }>(
      url,
      `INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, dnc_flag, lead_source)
      VALUES ('Olga', 'Old', '555-010-4242', 'olga@example.com', '02134', '1960-05-05', 'F', 'N', 'web') RETURNING id::text AS id`,
    );
    const key = c!.id;
    await sql(
      url,
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
      SELECT $1::bigint, 'HS-OLD-' || n, 'CP-OLD-' || n, 'active', current_date - 730 - n, 100 FROM generate_series(1, 11) AS n`,
      [key],
    );
    await enqueueKeys(state, [key], 0);
    const mark = standIn.requests.length;
    expect(await loop.once()).toMatchObject({ keys: 1, delivered: 1, requeued: 1, autoTerminated: 10 });
    const statuses = () => standIn.store.byExternalId(key)!.policies.map((p) => p.fields.status);
    expect(statuses().filter((s) => s === 'Terminated')).toHaveLength(10);
    expect(await pending()).toEqual([key]);
    // The second send matches all 11 policies, creates none, and so terminates none.
    expect(await loop.once()).toMatchObject({ keys: 1, delivered: 1, requeued: 0, autoTerminated: 0 });
    expect(statuses()).toEqual(Array(11).fill('Active'));
    expect(await pending()).toEqual([]);
    expect(standIn.requests.slice(mark).map((r) => [r.status, r.records])).toEqual([
      [200, 1],
      [200, 1],
      [200, 1],
      [200, 1],
    ]);
    const [sent] = await sql<{ h: string }>(url, `SELECT payload_hash AS h FROM carecycle_sync.sent WHERE customer_key = $1`, [key]);
    expect(sent!.h).toMatch(/^[0-9a-f]{64}$/);
    // Unchanged now: nothing more is sent.
    await enqueueKeys(state, [key], 0);
    expect(await loop.once()).toMatchObject({ keys: 1, delivered: 0, skipped: 1 });
  });
});
