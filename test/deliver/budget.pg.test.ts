/**
 * The per-minute budget survives restarts: requests are recorded in the state database as they
 * leave (an answer that never came included), a 429's pause too, and a new client (a restarted
 * daemon) seeds its limiter from them. doctor's probe takes its request from the same budget.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStandIn, maxInAnyWindow, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { createDeliveryClient, recordedBudget, stateLedger, type DeliveryClientOptions } from '../../src/deliver/index.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { loadConfig } from '../../src/config/load.js';
import { runDoctor } from '../../src/commands/doctor/index.js';
import { crmWithState, demoConfig } from '../backfill/fixture.js';
import { sql } from '../harness/db.js';
import { API_KEY, record } from './helpers.js';

const LIMIT = 4;
const WINDOW_MS = 1500;
let url: string;
let state: StateDb;
let standIn: StandIn;

const items = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, record: record(`${prefix}${i}`) }));
async function client(over: Partial<DeliveryClientOptions> = {}) {
  return createDeliveryClient({
    baseUrl: standIn.url,
    apiKey: API_KEY,
    requestsPerMinute: LIMIT,
    windowMs: WINDOW_MS,
    marginMs: 50,
    timeoutMs: 5000,
    log: silentLogger(),
    maxRecordsPerRequest: 1,
    ledger: stateLedger(state),
    seed: await recordedBudget(state, WINDOW_MS + 1000),
    ...over,
  });
}

beforeAll(async () => {
  url = await crmWithState('deliver-budget', 0);
  state = openStateDb(demoConfig(url), { max: 3 });
  standIn = await startStandIn({ apiKey: API_KEY, rpm: LIMIT, windowMs: WINDOW_MS });
});
afterAll(async () => {
  await standIn?.close();
  await state?.close();
});
beforeEach(async () => {
  standIn.faults.reset();
  await sql(url, `TRUNCATE carecycle_sync.requests; DELETE FROM carecycle_sync.runtime`);
  await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
  standIn.requests.length = 0;
});

describe('the request budget across restarts', () => {
  it('a restarted client counts the last window, including a request whose answer never came', async () => {
    const first = await client();
    await first.deliver(items(LIMIT - 1, 'a'));
    // The last request of the first "process" dies waiting for its answer.
    standIn.faults.set({ latencyMs: 400 });
    const dying = new AbortController();
    const lost = first.deliver(items(1, 'b'), dying.signal).catch(() => undefined);
    while (standIn.requests.length < LIMIT) await new Promise((r) => setTimeout(r, 5));
    dying.abort(new Error('crash'));
    await lost;
    await first.close();
    standIn.faults.set({ latencyMs: 0 });
    const recorded = await sql<{ status: number | null; origin: string }>(
      url,
      'SELECT status, origin FROM carecycle_sync.requests ORDER BY id',
    );
    expect(recorded.map((r) => r.status)).toEqual([200, 200, 200, null]);
    expect(recorded.every((r) => r.origin === 'run')).toBe(true);

    const second = await client();
    await second.deliver(items(2, 'c'));
    await second.close();
    expect(
      standIn.requests.filter((r) => r.fault === 'rate-limit'),
      JSON.stringify(standIn.requests.map((r) => [r.at - standIn.requests[0]!.at, r.status])),
    ).toEqual([]);
    expect(
      maxInAnyWindow(
        standIn.requests.map((r) => r.at),
        WINDOW_MS,
      ),
    ).toBeLessThanOrEqual(LIMIT);
  });

  it("a 429's pause is recorded and a restart inside it waits it out", async () => {
    standIn.faults.set({ rateLimitBurst: 1, retryAfterSeconds: 1, retryAfterVia: 'body' });
    const first = await client();
    const stop = new AbortController();
    const waiting = first.deliver(items(1, 'p'), stop.signal).catch(() => undefined);
    while (standIn.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    stop.abort(new Error('crash'));
    await waiting;
    await first.close();
    const second = await client();
    await second.deliver(items(1, 'q'));
    await second.close();
    expect(standIn.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(standIn.requests[1]!.at - standIn.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });
});

describe('requests of other commands while the daemon runs', () => {
  it("a probe recorded by doctor is counted by the running client's limiter from its next request on", async () => {
    const c = await client();
    await c.deliver(items(1, 'r'));
    await sql(url, `INSERT INTO carecycle_sync.requests (status, records, origin) VALUES (400, 0, 'doctor'), (400, 0, 'doctor')`);
    await c.deliver(items(1, 's'));
    await new Promise((r) => setTimeout(r, 50));
    await c.deliver(items(1, 't'));
    await c.close();
    const [r1, , r3] = standIn.requests;
    // Four in the window (two of ours, two probes): the third waits for the first to leave it.
    expect(r3!.at - r1!.at).toBeGreaterThanOrEqual(WINDOW_MS - 100);
  });
});

describe("doctor's probe and the recorded budget", () => {
  const doctorConfig = () =>
    loadConfig({ path: 'config/demo.yaml', env: { DATABASE_URL: url, CARECYCLE_API_KEY: API_KEY, CARECYCLE_BASE_URL: standIn.url } })
      .config;
  const apiCheck = async () => (await runDoctor(doctorConfig())).checks.find((c) => c.name === 'CareCycle API')!;

  it('with nothing recorded it probes once and records its request', async () => {
    const c = await apiCheck();
    expect(c).toMatchObject({ ok: true });
    expect(standIn.requests).toHaveLength(1);
    expect(await sql(url, 'SELECT status, origin FROM carecycle_sync.requests')).toEqual([{ status: 400, origin: 'doctor' }]);
  });

  it("while the daemon spends the budget it sends nothing and reports the daemon's last answer", async () => {
    await sql(
      url,
      `INSERT INTO carecycle_sync.requests (at, status, records, origin) SELECT now() - n * interval '1 second', 200, 100, 'run' FROM generate_series(1, 30) AS n`,
    );
    const c = await apiCheck();
    expect(standIn.requests).toHaveLength(0);
    expect(c.ok).toBe(true);
    expect(c.detail).toMatch(/key accepted \(the daemon's last request was answered HTTP 200 1 s ago\); no probe sent/);
  });

  it('a full window or a 429 pause in force: no probe, a warning that says why', async () => {
    await sql(
      url,
      `INSERT INTO carecycle_sync.requests (at, status, records, origin) SELECT now() - n * interval '100 ms', 400, 0, 'doctor' FROM generate_series(1, 60) AS n`,
    );
    let c = await apiCheck();
    expect(c).toMatchObject({ ok: true, warn: true, detail: expect.stringContaining('already holds 60 of 60 requests') });
    await sql(url, 'TRUNCATE carecycle_sync.requests');
    await sql(
      url,
      `INSERT INTO carecycle_sync.runtime (name, value) VALUES ('delivery', jsonb_build_object('rateLimitedUntil', to_char((now() + interval '40 s') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')))`,
    );
    c = await apiCheck();
    expect(c).toMatchObject({ ok: true, warn: true, detail: expect.stringMatching(/asked to wait (39|40) s more after a 429/) });
    expect(standIn.requests).toHaveLength(0);
  });
});
