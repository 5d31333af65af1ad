/**
 * An idle delivery loop sleeps until it is woken: capture's flush (or the daemon's own backfill)
 * calls wake(), and only keys that another process wrote wait for the slow poll. Checked from
 * Postgres's side (pg_stat_activity shows when the loop's connection last sent a query) and at
 * the stand-in (when the record arrived).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { mappedTables, prepareAssembler } from '../../src/assemble/index.js';
import { createDeliveryClient, type DeliveryClient } from '../../src/deliver/index.js';
import { createDeliveryLoop, type DeliveryLoop } from '../../src/deliver/loop.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { takeHeldLease } from '../../src/queue/lease.js';
import { enqueueKeys } from '../../src/queue/enqueue.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import type { Config } from '../../src/config/schema.js';
import { crmWithState, demoConfig } from '../backfill/fixture.js';
import { sql } from '../harness/db.js';
import { waitFor } from '../source/helpers.js';
import { API_KEY } from './helpers.js';

const APP = 'idle-wake-test delivery';
let url: string;
let config: Config;
let crm: pg.Pool;
let state: StateDb;
let standIn: StandIn;
let client: DeliveryClient;
const running: Array<{ stop: AbortController; done: Promise<void> }> = [];

async function startLoop(idlePollMs?: number): Promise<DeliveryLoop> {
  const assembler = await prepareAssembler({ config, crm, state, catalog: await readCatalog(crm, mappedTables(config)) });
  const { lease } = await takeHeldLease(state, config.source.slot);
  const loop = createDeliveryLoop({ state, assembler, client, log: silentLogger(), batchSize: 100, idlePollMs, lease: () => lease });
  const stop = new AbortController();
  running.push({ stop, done: loop.run(stop.signal) });
  return loop;
}

async function stopLoops(): Promise<void> {
  for (const r of running.splice(0)) {
    r.stop.abort();
    await r.done;
  }
}

/** Seconds since the loop's state connections last started a query (Infinity when none is open). */
async function quietSeconds(): Promise<number> {
  const [row] = await sql<{ s: number | null }>(
    url,
    `SELECT extract(epoch FROM now() - max(query_start))::float8 AS s FROM pg_stat_activity WHERE application_name = $1`,
    [APP],
  );
  return row?.s ?? Infinity;
}

const arrived = (key: string) => standIn.requests.find((r) => r.status === 200 && r.externalIds.includes(key));

beforeAll(async () => {
  url = await crmWithState('idle-wake', 6);
  config = demoConfig(url);
  crm = new pg.Pool({ connectionString: url, max: 2 });
  state = openStateDb(config, { max: 3, applicationName: APP });
  standIn = await startStandIn({ apiKey: API_KEY, rpm: 6000 });
  client = createDeliveryClient({ baseUrl: standIn.url, apiKey: API_KEY, requestsPerMinute: 6000, timeoutMs: 10_000, log: silentLogger() });
});

afterAll(async () => {
  await stopLoops();
  await client?.close();
  await standIn?.close();
  await state?.close();
  await crm?.end();
});

describe('idle delivery loop', () => {
  it('sends no query while idle, and a wake() delivers a new key at once', async () => {
    // The default poll, as the daemon runs it (it used to look at `pending` every 100 ms).
    const loop = await startLoop();
    await new Promise((r) => setTimeout(r, 2500));
    expect(await quietSeconds()).toBeGreaterThan(1.5);
    await enqueueKeys(state, ['2'], 0);
    const t0 = Date.now();
    loop.wake();
    await waitFor('customer 2 at the stand-in', () => arrived('2') !== undefined, 10_000, 10);
    // Generous for a loaded machine; without the wake it would wait for the next poll.
    expect(arrived('2')!.at - t0).toBeLessThan(3000);
    await stopLoops();
  });

  it('keys written by another process without a wake are picked up by the slow poll', async () => {
    await startLoop(1000);
    await new Promise((r) => setTimeout(r, 300));
    // As `carecycle-sync backfill` or `dead-letters retry` would: straight into pending.
    await sql(url, `INSERT INTO carecycle_sync.pending (customer_key, priority, version) VALUES ('3', 1, 1)`);
    const t0 = Date.now();
    await waitFor('customer 3 at the stand-in', () => arrived('3') !== undefined, 15_000, 20);
    expect(arrived('3')!.at - t0).toBeLessThan(8000);
    await stopLoops();
  });
});
