/**
 * A mapping change reaches CareCycle by itself, through the real `run` process, the sample CRM
 * and the stand-in. After a restart with a newly mapped field, every customer with a value gets
 * it and the others are not sent again (a NULL is not a change); after a fixed transform, only
 * the customers it affects are sent. `backfill --dry-run` counts what a change would send,
 * checked against the CRM, and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';
import { freshDatabase, sql } from '../harness/db.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { slotFor } from '../source/fixtures.js';
import { demoConfigFile, startDaemonChild, type DaemonChild, type DaemonEnv } from './daemon-child.js';

const KEY = 'cc_mapping_change_0123456789ab';
const SEED = 40;
const BATCH = 4;

let url: string;
let standIn: StandIn;
let env: DaemonEnv;
let daemon: DaemonChild | undefined;
const applied: AcaRecord[] = [];

const count = async (text: string) => Number((await sql<{ n: string }>(url, text))[0]!.n);
const keysOf = async (text: string) => (await sql<{ k: string }>(url, text)).map((r) => r.k).sort();
const sentSince = (mark: number) => [...new Set(applied.slice(mark).map((r) => r.externalId))].sort();
/** Records per accepted request since request number `mark`. */
const requestSizes = (mark: number) =>
  standIn.requests
    .slice(mark)
    .filter((r) => r.status === 200 && r.records > 0)
    .map((r) => r.records);

/** demo.yaml on this database's slot, fast, with `patch` applied. */
const configWith = (patch: (raw: any) => void = () => undefined) =>
  demoConfigFile((raw) => {
    raw.source.slot = slotFor(url);
    // One batch in flight at a time (several share the tail of the queue above 1,200 a minute).
    raw.carecycle.requestsPerMinute = 600;
    // Small batches, so a request that carries only the few changed customers of a batch shows.
    raw.sync.batchSize = BATCH;
    patch(raw);
  });
const withNotes = (raw: any) => (raw.customers.customFields.notes = 'notes');
const withTrim = (raw: any) => (raw.customers.fields.firstName = { column: 'first_name', transform: 'trim' });

/** Runs the daemon until the backfill run number `runs` is enqueued and nothing is pending, then stops it. */
async function runUntilSettled(config: string, runs: number): Promise<DaemonChild> {
  const d = startDaemonChild(config, env);
  daemon = d;
  const settled = async () =>
    (await count('SELECT count(*) AS n FROM carecycle_sync.backfill WHERE finished_at IS NOT NULL')) >= runs &&
    (await count('SELECT count(*) AS n FROM carecycle_sync.pending')) === 0;
  try {
    // The state schema appears only once the daemon's setup ran.
    await waitFor(`backfill run ${runs} enqueued and delivered`, () => settled().catch(() => false), 90_000, 200);
  } catch (err) {
    d.kill('SIGKILL');
    await d.exited();
    daemon = undefined;
    throw new Error(`${(err as Error).message}; stderr tail:\n${d.tail()}`, { cause: err });
  }
  d.kill('SIGTERM');
  await d.exited();
  daemon = undefined;
  return d;
}

function dryRun(config: string, ...args: string[]): any {
  const out = execFileSync(process.execPath, cliArgs('backfill', '--dry-run', '--json', '--config', config, ...args), {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

beforeAll(async () => {
  url = await freshDatabase('mapping-change');
  await seedCrm(url, SEED);
  // A note on every fourth customer (the others NULL); a first name with trailing blanks on every fifth.
  await sql(url, `UPDATE customers SET notes = 'vip ' || id WHERE id % 4 = 0`);
  await sql(url, `UPDATE customers SET first_name = first_name || '  ' WHERE id % 5 = 0`);
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  const apply = standIn.store.apply.bind(standIn.store);
  standIn.store.apply = (record, now) => {
    applied.push(structuredClone(record));
    return apply(record, now);
  };
  env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
});

afterAll(async () => {
  daemon?.kill('SIGKILL');
  await daemon?.exited();
  await standIn?.close();
});

describe('a mapping change', { timeout: 240_000 }, () => {
  it('the first run stores the fingerprint and reconciles nothing beyond the initial backfill', async () => {
    const d = await runUntilSettled(configWith(), 1);
    expect(standIn.store.all()).toHaveLength(SEED);
    expect(d.logs.some((l) => /mapping fingerprint stored/.test(String(l.msg)))).toBe(true);
    expect(d.logs.some((l) => /the mapping changed/.test(String(l.msg)))).toBe(false);
    expect(await count(`SELECT count(*) AS n FROM carecycle_sync.runtime WHERE name = 'mapping'`)).toBe(1);
  });

  it('a newly mapped field reaches every customer with a value; the others are not sent again', async () => {
    const mark = applied.length;
    const requests = standIn.requests.length;
    const d = await runUntilSettled(configWith(withNotes), 2);
    const changed = d.logs.find((l) => /the mapping changed/.test(String(l.msg)));
    expect(changed?.changed).toEqual(['customers.customFields.notes']);
    const withValue = await keysOf('SELECT id::text AS k FROM customers WHERE notes IS NOT NULL');
    expect(withValue).toHaveLength(SEED / 4);
    expect(sentSince(mark)).toEqual(withValue);
    for (const k of withValue) {
      expect(standIn.store.byExternalId(k)!.fields.customFields).toContainEqual({ fieldKey: 'notes', value: `vip ${k}` });
    }
    // Records sent ≤ records changed: one record per customer here (none has more than 10 policies),
    // in full requests although only one customer in four changed.
    expect(applied.length - mark).toBe(withValue.length);
    expect(requestSizes(requests)).toEqual([4, 4, 2]);
  });

  it('a fixed transform sends only the customers it affects', async () => {
    const mark = applied.length;
    const requests = standIn.requests.length;
    const d = await runUntilSettled(
      configWith((raw) => (withNotes(raw), withTrim(raw))),
      3,
    );
    expect(d.logs.find((l) => /the mapping changed/.test(String(l.msg)))?.changed).toEqual(['customers.fields.firstName']);
    const padded = await keysOf(`SELECT id::text AS k FROM customers WHERE first_name <> btrim(first_name)`);
    expect(padded).toHaveLength(SEED / 5);
    expect(sentSince(mark)).toEqual(padded);
    for (const k of padded) expect(standIn.store.byExternalId(k)!.fields.firstName).not.toMatch(/\s$/);
    expect(requestSizes(requests)).toEqual([4, 4]);
  });

  it('backfill --dry-run counts what a change would send, as the CRM says, and writes nothing', async () => {
    const tier = `CASE WHEN id % 8 = 0 THEN 'gold' END`;
    const config = configWith((raw) => {
      withNotes(raw);
      withTrim(raw);
      raw.customers.customFields.tier = { sql: tier };
    });
    const before = await sql(
      url,
      `SELECT (SELECT count(*) FROM carecycle_sync.pending) AS p, (SELECT count(*) FROM carecycle_sync.backfill) AS b,
                                          (SELECT value::text FROM carecycle_sync.runtime WHERE name = 'mapping') AS m`,
    );
    const all = dryRun(config);
    const customers = await count('SELECT count(*) AS n FROM customers WHERE deleted_at IS NULL');
    const gold = await count(`SELECT count(*) AS n FROM customers WHERE deleted_at IS NULL AND ${tier} IS NOT NULL`);
    expect(all).toMatchObject({ customers, changed: gold, unchanged: customers - gold, invalid: 0, fields: { 'customFields.tier': gold } });
    expect(Object.keys(all.fields)).toEqual(['customFields.tier']);
    const text = execFileSync(process.execPath, cliArgs('backfill', '--dry-run', '--config', config), {
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    expect(text).toContain(`would change  ${gold}  (${gold} records)`);
    expect(text).toMatch(/customer 8:\n {4}customFields\.tier: \(not sent\) → "gold"/);
    expect(text).toMatch(/Sending them would take about .* at 600 requests\/min × 4 records/);
    const some = dryRun(config, '--where', 'id <= 20');
    expect(some).toMatchObject({ customers: 20, changed: 2, unchanged: 18, invalid: 0, fields: { 'customFields.tier': 2 } });
    const after = await sql(
      url,
      `SELECT (SELECT count(*) FROM carecycle_sync.pending) AS p, (SELECT count(*) FROM carecycle_sync.backfill) AS b,
                                         (SELECT value::text FROM carecycle_sync.runtime WHERE name = 'mapping') AS m`,
    );
    expect(after).toEqual(before);
  });

  it('a narrower customers.where gives the customers it leaves out the delete rule, and sends no one else', async () => {
    const mark = applied.length;
    const d = await runUntilSettled(
      configWith((raw) => {
        withNotes(raw);
        withTrim(raw);
        raw.customers.where = 'deleted_at IS NULL AND id <> 3';
        raw.sync.onCustomerDelete = 'cancel-policies';
      }),
      4,
    );
    expect(d.logs.find((l) => /the mapping changed/.test(String(l.msg)))?.changed).toEqual(['customers.where', 'sync.onCustomerDelete']);
    expect(sentSince(mark)).toEqual(['3']);
    const policies = standIn.store.byExternalId('3')!.policies;
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.map((p) => p.fields.status)).toEqual(policies.map(() => 'Cancelled'));
  });
});
