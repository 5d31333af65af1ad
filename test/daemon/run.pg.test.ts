/**
 * End to end: `carecycle-sync run` as a child process against a real Postgres holding the
 * sample CRM (sql/crm), config/demo.yaml, and the CareCycle stand-in. After every scenario the
 * stand-in's stored state must equal what the CRM says for every customer.
 *
 * Two daemon runs share the scenarios (a start costs seconds): the first backfills the new
 * slot, streams every kind of change, rides out a 429 storm, a 5xx period and a revoked key,
 * and is stopped with SIGTERM mid-stream; the second must deliver everything the first left
 * behind, runs with onCustomerDelete: cancel-policies, and is forced down by a second signal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';
import { freshDatabase, sql } from '../harness/db.js';
import { seedCrm } from '../backfill/fixture.js';
import { confirmedLsn, currentLsn, waitFor } from '../source/helpers.js';
import { slotFor } from '../source/fixtures.js';
import { demoConfigFile, startDaemonChild, type DaemonChild, type DaemonEnv } from './daemon-child.js';
import { expectStandInMatchesCrm, type MatchOptions } from './standin-vs-crm.js';

const KEY = 'cc_e2e_run_0123456789abcdef';
const SEED = 60;
const DRAIN_SECONDS = 10;

let url: string;
let crm: pg.Client;
let standIn: StandIn;
let env: DaemonEnv;
let ignoreConfig: string;
let cancelConfig: string;
let stopConfig: string;
let daemon: DaemonChild | undefined;
/** Every record the stand-in applied, in order. */
const applied: AcaRecord[] = [];
const dead = new Map<string, string>();

const q = async (text: string, params: unknown[] = []) => (await crm.query(text, params)).rows;
const requestsFor = (key: string, since: number) => standIn.requests.slice(since).filter((r) => r.externalIds.includes(key));
const appliedFor = (key: string, since = 0) => applied.slice(since).filter((r) => r.externalId === key);
const match = (o: MatchOptions & { timeoutMs?: number } = {}) => expectStandInMatchesCrm(standIn, url, { deadLettered: dead, ...o });
const pendingCount = async () => Number((await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM carecycle_sync.pending'))[0]!.n);

async function insertCustomer(fields: Record<string, unknown>, policies = 1): Promise<string> {
  const row = {
    first_name: 'Nina',
    last_name: 'Newman',
    phone: '555-010-7777',
    email: 'nina@example.com',
    zip: '02134',
    birth_date: '1984-02-29',
    sex: 'F',
    lead_source: 'web',
    ...fields,
  };
  const cols = Object.keys(row);
  const [c] = await q(
    `INSERT INTO customers (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id::text AS id`,
    Object.values(row),
  );
  const id = c!.id as string;
  // Effective dates within the last year: CareCycle terminates a customer's policies older than
  // a year whenever it creates a new one (docs/carecycle-api.md, A17), which a split send would do.
  if (policies > 0) {
    await q(
      `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
             SELECT $1::bigint, 'HS-' || $1::text || '-' || n, 'CP-' || $1::text || '-' || n, 'active', current_date - n, 200 + n
               FROM generate_series(1, $2::int) AS n`,
      [id, policies],
    );
  }
  return id;
}

beforeAll(async () => {
  url = await freshDatabase('daemon-run');
  await seedCrm(url, SEED);
  crm = new pg.Client({ connectionString: url });
  await crm.connect();
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  const apply = standIn.store.apply.bind(standIn.store);
  standIn.store.apply = (record, now) => {
    applied.push(structuredClone(record));
    return apply(record, now);
  };
  env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
  const common = (raw: any) => {
    raw.source.slot = slotFor(url);
    raw.carecycle.requestsPerMinute = 6000;
    raw.carecycle.authRetrySeconds = 0.5;
  };
  ignoreConfig = demoConfigFile(common);
  cancelConfig = demoConfigFile((raw) => {
    common(raw);
    raw.sync.onCustomerDelete = 'cancel-policies';
  });
  stopConfig = demoConfigFile((raw) => {
    common(raw);
    raw.source.onSlotLost = 'stop';
  });
});

afterAll(async () => {
  if (daemon) {
    daemon.kill('SIGKILL');
    await daemon.exited();
  }
  await crm?.end();
  await standIn?.close();
});

describe('carecycle-sync run, first daemon', () => {
  it('backfills the new slot, then streams inserts, updates, moves, deletes and invalid rows', async () => {
    daemon = startDaemonChild(ignoreConfig, env, ['--drain-timeout', String(DRAIN_SECONDS)]);
    await match({ timeoutMs: 40_000 });
    expect(standIn.store.all()).toHaveLength(SEED);
    const mark = standIn.requests.length;
    const markApplied = applied.length;

    // An unmapped column first: everything after it arriving proves it was handled.
    await q(`UPDATE customers SET notes = 'called twice', updated_at = now() WHERE id = 9`);
    await q(`UPDATE customers SET first_name = 'Renamed' WHERE id = 1`);
    await q(`UPDATE policies SET premium = 999.99 WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 2)`);
    await q(`UPDATE policies SET customer_id = 4 WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 3)`);
    const [gone] = await q(
      `DELETE FROM policies WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 5 AND status = 'active') RETURNING hs_policy_id AS hs`,
    );
    const before6 = structuredClone(standIn.store.byExternalId('6')!.fields);
    await q(`DELETE FROM customers WHERE id = 6`);
    await q(`UPDATE customers SET deleted_at = now() WHERE id = 7`);
    const fresh = await insertCustomer({}, 2);
    const noPhone = await insertCustomer({ phone: null, first_name: 'Nophone' });
    const [{ dob: dob8 }] = (await q(`SELECT birth_date::text AS dob FROM customers WHERE id = 8`)) as [{ dob: string }];
    await q(`UPDATE customers SET birth_date = '0900-01-01' WHERE id = 8`);
    const genderX = await insertCustomer({ sex: 'X', first_name: 'Xan' });
    const eleven = await insertCustomer({ first_name: 'Eleven' }, 11);
    dead.set(noPhone, 'phoneNumber').set('8', 'dateOfBirth').set(genderX, 'gender');

    await match();
    expect(standIn.store.byExternalId(fresh)!.policies).toHaveLength(2);
    expect(requestsFor('9', mark), 'a change to customers.notes costs no request').toEqual([]);
    expect(requestsFor('6', mark), 'onCustomerDelete: ignore sends nothing').toEqual([]);
    expect(requestsFor('7', mark)).toEqual([]);
    expect(standIn.store.byExternalId('6')!.fields).toEqual(before6);
    // The deleted policy went once, as Cancelled, in customer 5's record.
    const cancelled = appliedFor('5', markApplied)
      .flatMap((r) => r.policies ?? [])
      .filter((p) => p.healthSherpaPolicyId === gone!.hs);
    expect(cancelled.map((p) => p.status)).toEqual(['Cancelled']);
    // 11 policies: two records with the same externalId, never in one request.
    expect(appliedFor(eleven).map((r) => r.policies!.length)).toEqual([10, 1]);
    expect(requestsFor(eleven, mark).map((r) => [r.status, r.externalIds.filter((e) => e === eleven).length])).toEqual([
      [200, 1],
      [200, 1],
    ]);
    expect(standIn.store.byExternalId(eleven)!.policies).toHaveLength(11);
    const reasons = await sql<{ customer_key: string; reason: string; http_status: number | null }>(
      url,
      'SELECT customer_key, reason, http_status FROM carecycle_sync.dead_letters',
    );
    expect(reasons.find((r) => r.customer_key === '8')!.reason).toContain('year 0900 is out of range');
    expect(reasons.find((r) => r.customer_key === genderX)!.reason).toContain('"X" has no entry in customers.fields.gender.map');
    expect(reasons.every((r) => r.http_status === null)).toBe(true);
    for (const k of dead.keys()) expect(requestsFor(k, mark), `dead letter ${k} cost no request`).toEqual([]);

    // A dead-lettered customer is retried by itself once it changes again (customer 8 is put
    // back exactly as CareCycle holds it: nothing to send, and its dead letter is moot); the
    // cancelled policy is not sent again with customer 5's next change.
    const mark2 = applied.length;
    await q(`UPDATE customers SET birth_date = $1 WHERE id = 8`, [dob8]);
    await q(`UPDATE customers SET phone = '(555) 010-8888' WHERE id = $1`, [noPhone]);
    await q(`UPDATE customers SET last_name = 'Fivesson' WHERE id = 5`);
    dead.delete('8');
    dead.delete(noPhone);
    await match();
    expect(appliedFor('5', mark2)).toHaveLength(1);
    expect(appliedFor('8', mark2)).toHaveLength(0);
    expect(appliedFor(noPhone, mark2)).toHaveLength(1);
    expect(
      appliedFor('5', mark2)
        .flatMap((r) => r.policies ?? [])
        .some((p) => p.healthSherpaPolicyId === gone!.hs),
    ).toBe(false);
  }, 90_000);
});

/** One UPDATE per transaction, `gapMs` apart: a stream of live changes. */
async function stream(ids: readonly number[], column: 'first_name' | 'last_name', tag: string, gapMs = 15): Promise<void> {
  for (const id of ids) {
    await q(`UPDATE customers SET ${column} = $2 WHERE id = $1`, [id, `${tag}${id}`]);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('carecycle-sync run, first daemon, under faults', () => {
  it('rides out a 429 storm and a 5xx period during streaming', async () => {
    const mark = standIn.requests.length;
    standIn.faults.set({ rateLimitBurst: 5, retryAfterSeconds: 0.2, retryAfterVia: 'body' });
    await stream(range(10, 29), 'first_name', 'Storm');
    await match();
    expect(standIn.requests.slice(mark).filter((r) => r.fault === 'rate-limit-burst')).toHaveLength(5);

    const mark2 = standIn.requests.length;
    standIn.faults.set({ serverErrors: 3 });
    await stream(range(10, 29), 'last_name', 'Outage');
    await match();
    expect(standIn.requests.slice(mark2).filter((r) => r.status === 500)).toHaveLength(3);
  }, 60_000);

  it('a revoked key stops delivery loudly while capture keeps queueing; the restored key delivers all', async () => {
    const slot = slotFor(url);
    standIn.setApiKey('cc_rotated_by_someone_else');
    const mark = standIn.requests.length;
    await stream(range(30, 39), 'first_name', 'Locked', 0);
    const written = await currentLsn(url);
    await waitFor('/readyz to turn 503 with the apiKey check failing', async () => {
      const r = await daemon!.readyz();
      return r.status === 503 && r.body.checks.apiKey!.ok === false && r.body.checks.replication!.ok;
    });
    await daemon!.sawLog('the loud rejected-key error', (l) => l.level === 50 && /REJECTS THE API KEY/.test(l.msg));
    expect(standIn.requests.slice(mark).every((r) => r.status === 401)).toBe(true);
    // Capture keeps going: keys queue up and the slot still advances past the new changes.
    await waitFor('the ten changed customers to be pending', async () => (await pendingCount()) >= 10);
    await waitFor('confirmed_flush_lsn to pass the changes', async () => {
      const [r] = await sql<{ ok: boolean }>(url, 'SELECT $1::pg_lsn <= $2::pg_lsn AS ok', [written, await confirmedLsn(url, slot)]);
      return r!.ok;
    });
    await stream(range(40, 44), 'first_name', 'Locked', 0);
    await waitFor('more keys to queue while the key is refused', async () => (await pendingCount()) >= 15);
    expect(daemon!.child.exitCode).toBeNull();

    standIn.setApiKey(KEY);
    await match();
    await waitFor('/readyz to turn 200 again', async () => (await daemon!.readyz()).status === 200);
    await daemon!.sawLog('that delivery resumed', (l) => /accepts the API key again/.test(l.msg));
  }, 60_000);

  it('SIGTERM during streaming: drains within the deadline and exits 0; nothing is lost', async () => {
    standIn.faults.set({ latencyMs: 300 });
    const mark = standIn.requests.length;
    const writer = stream(
      range(10, 59).filter((id) => id !== 6 && id !== 7),
      'first_name',
      'Term',
      10,
    );
    await waitFor('a request in flight', () => standIn.requests.slice(mark).some((r) => r.status === 0), 20_000, 5);
    const t0 = Date.now();
    daemon!.kill('SIGTERM');
    const exit = await daemon!.exited(t0);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(DRAIN_SECONDS * 1000);
    expect(daemon!.logs.some((l) => l.msg === 'stopped')).toBe(true);
    expect(daemon!.logs.some((l) => /drain deadline/.test(l.msg ?? ''))).toBe(false);
    await writer;
    standIn.faults.set({ latencyMs: 0 });
    daemon = undefined;
  }, 60_000);
});

describe('carecycle-sync run, second daemon (onCustomerDelete: cancel-policies)', () => {
  it('delivers everything the first one left behind after a restart', async () => {
    daemon = startDaemonChild(cancelConfig, env, ['--drain-timeout', String(DRAIN_SECONDS)]);
    await match({ timeoutMs: 30_000 });
    expect(daemon.logs.some((l) => /backfill/.test(l.msg ?? '') && l.level === 30 && /new slot/.test(l.msg))).toBe(false);
  }, 60_000);

  it('cancels the remembered policies of a deleted customer', async () => {
    const policies = await q(`SELECT hs_policy_id AS hs FROM policies WHERE customer_id = 11 ORDER BY id`);
    await q(`DELETE FROM customers WHERE id = 11`);
    const statuses = () => standIn.store.byExternalId('11')!.policies.map((p) => [p.fields.healthSherpaPolicyId, p.fields.status]);
    const want = policies.map((p) => [p.hs, 'Cancelled']);
    await waitFor("customer 11's policies to be cancelled", () => JSON.stringify(statuses()) === JSON.stringify(want)).catch(
      () => undefined,
    );
    expect(statuses()).toEqual(want);
    await match();
    expect(await sql(url, `SELECT 1 FROM carecycle_sync.sent_policies WHERE customer_key = '11'`)).toEqual([]);
  }, 30_000);

  it('a second signal forces the exit at once; the unfinished key stays pending', async () => {
    standIn.faults.set({ latencyMs: 5000 });
    const mark = standIn.requests.length;
    await q(`UPDATE customers SET first_name = 'Forced' WHERE id = 12`);
    await waitFor('a request in flight', () => standIn.requests.slice(mark).some((r) => r.status === 0), 20_000, 5);
    const t0 = Date.now();
    daemon!.kill('SIGTERM');
    await daemon!.sawLog('that it is draining', (l) => /^stopping/.test(l.msg ?? ''));
    daemon!.kill('SIGINT');
    const exit = await daemon!.exited(t0);
    expect(exit.code).toBe(130);
    expect(exit.ms).toBeLessThan(4000);
    daemon = undefined;
    expect(await sql(url, `SELECT 1 FROM carecycle_sync.pending WHERE customer_key = '12'`)).toHaveLength(1);
    standIn.faults.set({ latencyMs: 0 });
  }, 30_000);
});

describe('carecycle-sync run, fatal errors', () => {
  it('with source.onSlotLost: stop, exits 1 with what to do when its slot is gone, instead of delivering on half alive', async () => {
    // The forced-down daemon's walsender may hold the slot for a moment longer.
    await waitFor('the slot to be dropped', () =>
      sql(url, 'SELECT pg_drop_replication_slot($1)', [slotFor(url)]).then(
        () => true,
        () => false,
      ),
    );
    const d = startDaemonChild(stopConfig, env, ['--no-setup']);
    const exit = await d.exited();
    expect(exit.code).toBe(1);
    expect(d.tail()).toContain(`replication slot "${slotFor(url)}": the slot does not exist (dropped, or never created)`);
    expect(d.tail()).toContain('carecycle-sync teardown --yes');
  }, 30_000);
});
