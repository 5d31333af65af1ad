/**
 * Upgrading state written before the daemon remembered which fields it sent with a value
 * (migration 006): the stored hashes stay valid, so unchanged customers cost no request; each
 * one is looked at once and learns its field list; a customer whose value was cleared while the
 * daemon was stopped is cleared in CareCycle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { mappedTables, prepareAssembler } from '../../src/assemble/index.js';
import { createDeliveryClient, type DeliveryClient } from '../../src/deliver/index.js';
import { createDeliveryLoop, type DeliveryLoop } from '../../src/deliver/loop.js';
import { takeHeldLease } from '../../src/queue/lease.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { enqueueKeys } from '../../src/queue/enqueue.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { crmWithState, demoConfig, migrateState } from '../backfill/fixture.js';
import { sql } from '../harness/db.js';
import { API_KEY } from '../deliver/helpers.js';

let url: string;
let crm: pg.Pool;
let state: StateDb;
let standIn: StandIn;
let client: DeliveryClient;
let loop: DeliveryLoop;
const KEYS = ['1', '2', '3', '4', '5', '6'];

beforeAll(async () => {
  url = await crmWithState('upgrade-valued', 6);
  const config = demoConfig(url);
  crm = new pg.Pool({ connectionString: url, max: 2 });
  state = openStateDb(config, { max: 2 });
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

describe('upgrade to remembered field lists (migration 006)', () => {
  it('re-sends nothing unchanged, learns the lists, and clears what was cleared meanwhile', async () => {
    await enqueueKeys(state, KEYS, 0);
    expect(await loop.once()).toMatchObject({ delivered: 6 });
    // What an older version leaves behind: the same hashes, no field lists, no migration 006.
    await sql(
      url,
      `ALTER TABLE carecycle_sync.sent DROP COLUMN valued; ALTER TABLE carecycle_sync.sent_policies DROP COLUMN valued;
                    DELETE FROM carecycle_sync.schema_migrations WHERE version = 6`,
    );
    // While it was stopped, customer 2's email was removed in the CRM (and queued).
    await sql(url, `UPDATE customers SET email = NULL WHERE id = 2`);
    await enqueueKeys(state, ['2'], 0);
    await migrateState(url);
    const pending = await sql<{ k: string; p: number }>(
      url,
      `SELECT customer_key AS k, priority AS p FROM carecycle_sync.pending ORDER BY 1`,
    );
    expect(pending).toEqual(KEYS.map((k) => ({ k, p: k === '2' ? 0 : 1 })));

    const mark = standIn.requests.length;
    expect(await loop.once()).toMatchObject({ keys: 6, delivered: 1, skipped: 5 });
    expect(standIn.requests.slice(mark).map((r) => r.externalIds)).toEqual([['2']]);
    expect(standIn.store.byExternalId('2')!.fields).not.toHaveProperty('email');
    const valued = await sql<{ k: string; v: string[] | null }>(
      url,
      `SELECT customer_key AS k, valued AS v FROM carecycle_sync.sent ORDER BY 1`,
    );
    expect(valued.every((r) => Array.isArray(r.v) && r.v.includes('firstName'))).toBe(true);
    expect(valued.find((r) => r.k === '2')!.v).not.toContain('email');
    expect(valued.find((r) => r.k === '1')!.v).toContain('email');
    const policies = await sql<{ v: string[] | null }>(url, `SELECT valued AS v FROM carecycle_sync.sent_policies`);
    expect(policies.every((r) => Array.isArray(r.v) && r.v.includes('healthSherpaPolicyId'))).toBe(true);
  });
});
