/**
 * Several agencies per host: two daemons, each with its own slot, publication, state schema,
 * API key and request budget, against one Postgres server, side by side (as `run` composes
 * them, in this process). Once with each agency's CRM in a database of its own, once with both
 * CRMs as schemas of one database (state schemas and slots side by side too). Each CareCycle
 * stand-in knows only its agency's key: every customer must arrive at its own agency's, none at
 * the other's, and neither stand-in may see more requests in a window than its agency's budget.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot, sqlDir } from '../../src/paths.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log/logger.js';
import { maxInAnyWindow, startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { freshDatabase, sql } from '../harness/db.js';
import { waitFor } from '../source/helpers.js';

/** The limiter's and the stand-ins' window, shrunk from 60 s so the budgets bind within seconds. */
const WINDOW_MS = 4000;
/**
 * The stand-ins count arrivals in a window this much shorter: a request's arrival lags its send
 * (a new connection, a loaded machine) by more than the limiter's margin of 1 % of so short a window.
 */
const ARRIVAL_SLACK_MS = 500;

interface Agency {
  name: string;
  /** Slots are per server, not per database: each scenario takes slots of its own. */
  scenario: string;
  /** The CRM's tables live in this Postgres schema. */
  crmSchema: string;
  url: string;
  customers: number;
  /** Requests per WINDOW_MS. */
  budget: number;
  key: string;
  standIn?: StandIn;
  daemon?: Daemon;
  running?: Promise<void>;
  stop?: AbortController;
}

const started: Agency[] = [];

afterEach(async () => {
  for (const a of started.splice(0)) {
    a.stop?.abort();
    await a.running?.catch(() => undefined);
    await a.standIn?.close();
  }
});

/** The sample CRM in schema `crmSchema` of `url`; every last name says whose customer it is. */
async function seed(a: Agency): Promise<void> {
  const ddl = readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8');
  const rows = readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(a.customers));
  await sql(
    a.url,
    `CREATE SCHEMA IF NOT EXISTS ${a.crmSchema}; SET search_path TO ${a.crmSchema}; ${ddl}; ${rows};
                    UPDATE ${a.crmSchema}.customers SET last_name = '${a.name}-' || id`,
  );
}

async function start(a: Agency): Promise<void> {
  a.standIn = await startStandIn({ apiKey: a.key, rpm: a.budget, windowMs: WINDOW_MS - ARRIVAL_SLACK_MS });
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source = { url: a.url, slot: slotName(a), publication: `ccs_${a.name}` };
  raw.state = { schema: `ccs_state_${a.name}` };
  raw.carecycle = { baseUrl: a.standIn.url, apiKey: a.key, requestsPerMinute: a.budget };
  raw.customers.table = `${a.crmSchema}.customers`;
  raw.policies.table = `${a.crmSchema}.policies`;
  raw.watch = [{ table: `${a.crmSchema}.customer_phones`, customerKey: 'customer_id' }];
  raw.sync.flushIntervalMs = 50;
  const config = validateConfig(raw);
  a.daemon = await startDaemon({ config, configPath: `${a.name} config`, log: silentLogger(), port: null, windowMs: WINDOW_MS });
  a.stop = new AbortController();
  a.running = a.daemon.run(a.stop.signal, new AbortController().signal);
  a.running.catch(() => undefined);
  started.push(a);
}

const slotName = (a: Pick<Agency, 'name' | 'scenario'>) => `ccs_${a.name}_${a.scenario}_${process.pid}`;
const lastNames = (a: Agency) => a.standIn!.store.all().map((c) => String(c.fields.lastName));

async function sideBySide(agencies: [Agency, Agency]): Promise<void> {
  for (const a of agencies) await seed(a);
  // Started together: both slots, publications and state schemas are created on one server.
  await Promise.all(agencies.map(start));
  for (const a of agencies) {
    await waitFor(`${a.name}'s backfill at its stand-in`, () => a.standIn!.store.all().length === a.customers, 45_000, 100);
  }
  // Live changes on both sides at once.
  for (const a of agencies) await sql(a.url, `UPDATE ${a.crmSchema}.customers SET first_name = 'Live-${a.name}' WHERE id IN (1, 2, 3)`);
  for (const a of agencies) {
    await waitFor(
      `${a.name}'s live changes`,
      () => ['1', '2', '3'].every((k) => a.standIn!.store.byExternalId(k)?.fields.firstName === `Live-${a.name}`),
      30_000,
      50,
    );
  }
  for (const a of agencies) {
    const other = agencies.find((o) => o !== a)!;
    const names = lastNames(a);
    expect(names.length).toBe(a.customers);
    expect(
      names.filter((n) => !n.startsWith(`${a.name}-`)),
      `customers of ${other.name} at ${a.name}'s stand-in`,
    ).toEqual([]);
    const requests = a.standIn!.requests;
    // Its own key only: the stand-in answers any other key with 401.
    expect(requests.filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
    expect(
      requests.filter((r) => r.status === 429),
      `${a.name} went over its budget`,
    ).toEqual([]);
    expect(
      maxInAnyWindow(
        requests.map((r) => r.at),
        WINDOW_MS - ARRIVAL_SLACK_MS,
      ),
    ).toBeLessThanOrEqual(a.budget);
    // The budget binds: the backfill needed more requests than one window allows.
    expect(requests.length).toBeGreaterThan(a.budget);
  }
}

describe('two agencies on one Postgres server', { timeout: 120_000 }, () => {
  it('in two databases: each daemon delivers only its own customers, with its own key, within its own budget', async () => {
    await sideBySide([
      {
        name: 'acme',
        scenario: 'dbs',
        crmSchema: 'public',
        url: await freshDatabase('agency-acme'),
        customers: 1200,
        budget: 8,
        key: 'cc_acme_key_0123456789',
      },
      {
        name: 'bluebird',
        scenario: 'dbs',
        crmSchema: 'public',
        url: await freshDatabase('agency-bluebird'),
        customers: 250,
        budget: 2,
        key: 'cc_bluebird_key_0123456789',
      },
    ]);
  });

  it('in one database: two CRM schemas, two state schemas, two slots and publications', async () => {
    const url = await freshDatabase('agencies-shared');
    await sideBySide([
      { name: 'acme', scenario: 'one', crmSchema: 'acme', url, customers: 1200, budget: 8, key: 'cc_acme_key_0123456789' },
      { name: 'bluebird', scenario: 'one', crmSchema: 'bluebird', url, customers: 250, budget: 2, key: 'cc_bluebird_key_0123456789' },
    ]);
    // Postgres's own view: two slots in this database, each confirmed by its own daemon.
    const slots = await sql<{ slot_name: string; active: boolean }>(
      url,
      `SELECT slot_name, active FROM pg_replication_slots WHERE database = current_database() ORDER BY 1`,
    );
    expect(slots.map((s) => s.slot_name)).toEqual(['acme', 'bluebird'].map((name) => slotName({ name, scenario: 'one' })));
    expect(slots.every((s) => s.active)).toBe(true);
    const schemas = await sql<{ n: string }>(url, `SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE 'ccs_state_%' ORDER BY 1`);
    expect(schemas.map((s) => s.n)).toEqual(['ccs_state_acme', 'ccs_state_bluebird']);
  });
});
