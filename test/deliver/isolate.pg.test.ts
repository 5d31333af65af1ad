/**
 * A customer whose assembly query fails (a `{sql}` subquery returning two rows for it, a cast
 * failing on one of its values) is dead-lettered with the database's message while the rest of
 * its batch is delivered; an error that is not about one row still fails the whole pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { mappedTables, prepareAssembler } from '../../src/assemble/index.js';
import { createDeliveryClient, type DeliveryClient } from '../../src/deliver/index.js';
import { createDeliveryLoop, type DeliveryLoop } from '../../src/deliver/loop.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { enqueueKeys } from '../../src/queue/enqueue.js';
import { takeHeldLease } from '../../src/queue/lease.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { crmWithState, demoConfig } from '../backfill/fixture.js';
import { sql } from '../harness/db.js';
import { API_KEY } from './helpers.js';

let url: string;
let crm: pg.Pool;
let state: StateDb;
let standIn: StandIn;
let client: DeliveryClient;
let loop: DeliveryLoop;

beforeAll(async () => {
  url = await crmWithState('delivery-isolate', 8);
  const config = demoConfig(url, undefined, (raw) => {
    // A second phone as `county`: fine for one phone, "more than one row" for two.
    raw.customers.fields.county = { sql: '(SELECT p.phone FROM customer_phones p WHERE p.customer_id = customers.id)' };
    // A number parsed out of the notes: fails on a note that is not one.
    raw.customers.fields.city = { sql: "CASE WHEN customers.notes LIKE 'n:%' THEN (substr(customers.notes, 3)::int)::text END" };
  });
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

const pending = async () =>
  (await sql<{ k: string }>(url, 'SELECT customer_key AS k FROM carecycle_sync.pending ORDER BY 1')).map((r) => r.k);

describe('assembly failures of one customer', () => {
  it('isolates the customers whose query fails and delivers the rest of the batch', async () => {
    await sql(url, `INSERT INTO customer_phones (customer_id, phone) VALUES (2, '5550100001'), (3, '5550100002'), (3, '5550100003')`);
    await sql(url, `UPDATE customers SET notes = CASE id WHEN 4 THEN 'n:42' WHEN 6 THEN 'n:forty' ELSE notes END`);
    await enqueueKeys(state, ['1', '2', '3', '4', '5', '6', '7', '8'], 0);
    expect(await loop.once()).toMatchObject({ keys: 8, delivered: 6, deadLettered: 2 });
    expect(await pending()).toEqual([]);
    const dead = await sql<{ customer_key: string; reason: string }>(
      url,
      'SELECT customer_key, reason FROM carecycle_sync.dead_letters ORDER BY 1',
    );
    expect(dead.map((d) => d.customer_key)).toEqual(['3', '6']);
    expect(dead[0]!.reason).toMatch(/more than one row.*SQLSTATE 21000/);
    expect(dead[1]!.reason).toMatch(/invalid input syntax for type integer.*SQLSTATE 22P02/);
    expect(standIn.store.byExternalId('2')!.fields.county).toBe('5550100001');
    expect(standIn.store.byExternalId('4')!.fields.city).toBe('42');
    expect(standIn.store.byExternalId('3')).toBeUndefined();
    expect(standIn.store.customers.size).toBe(6);
  });

  it('a fixed customer leaves dead letters by itself on its next change', async () => {
    await sql(url, `DELETE FROM customer_phones WHERE customer_id = 3 AND phone = '5550100003'`);
    await enqueueKeys(state, ['3'], 0);
    expect(await loop.once()).toMatchObject({ keys: 1, delivered: 1 });
    expect((await sql(url, 'SELECT customer_key FROM carecycle_sync.dead_letters ORDER BY 1')).map((d) => d.customer_key)).toEqual(['6']);
  });

  it('an error that is not about one row (the CRM table is gone) fails the pass and keeps every key', async () => {
    await enqueueKeys(state, ['1', '7'], 0);
    await sql(url, 'ALTER TABLE customer_phones RENAME TO customer_phones_gone');
    try {
      await expect(loop.once()).rejects.toThrow(/customer_phones/);
      expect(await pending()).toEqual(['1', '7']);
      expect(loop.status().waitingSince).not.toBeNull();
    } finally {
      await sql(url, 'ALTER TABLE customer_phones_gone RENAME TO customer_phones');
    }
    expect(await loop.once()).toMatchObject({ keys: 2 });
    expect(loop.status().waitingSince).toBeNull();
  });
});
