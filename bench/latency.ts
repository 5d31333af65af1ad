/**
 * `npm run bench -- latency [--changes N] [--every-ms MS] [--during-backfill]`
 * Commit → CareCycle receipt, end to end: `carecycle-sync run` (a child process, config/demo.yaml,
 * the default 60 requests/minute) streams from a throwaway Postgres to the stand-in in this
 * process. One customer update is committed every 2 s (default 60 changes = 2 minutes); its
 * latency is the stand-in's arrival time of the first request carrying that customer minus the
 * writer's clock right after COMMIT (same machine, same clock).
 * Target: p50 ≤ 250 ms, p99 ≤ 1 s.
 * --during-backfill: the CRM has 100,000 customers and the daemon's initial backfill keeps every
 * request slot busy (100 records each, at 60 a minute) while the changes are made; a live change
 * goes before the backfill, so it waits for the next slot at most. Target: p99 ≤ 2 s.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startStandIn } from '../src/carecycle/stand-in/index.js';
import { API_KEY, benchPostgres, crmDatabase, demoConfigFile, percentile, startDaemon } from './lib/run-daemon.js';

const CUSTOMERS = 100;
const BACKFILL_CUSTOMERS = 100_000;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      changes: { type: 'string', default: '60' },
      'every-ms': { type: 'string', default: '2000' },
      'during-backfill': { type: 'boolean', default: false },
    },
  });
  const duringBackfill = values['during-backfill'];
  const customers = duringBackfill ? BACKFILL_CUSTOMERS : CUSTOMERS;
  // During the backfill, change customers it reaches last (keyset order): their only request
  // after the commit is the live one.
  const firstId = duringBackfill ? customers - 1000 : 2;
  const target = duringBackfill ? 2000 : 1000;
  const changes = Number(values.changes);
  const everyMs = Number(values['every-ms']);
  if (!(changes >= 1) || !(everyMs >= 1)) throw new Error('--changes and --every-ms must be positive numbers');
  const pgs = await benchPostgres();
  const standIn = await startStandIn({ apiKey: API_KEY, rpm: 60 });
  let daemon: ReturnType<typeof startDaemon> | undefined;
  let w: pg.Client | undefined;
  try {
    const url = await crmDatabase(pgs.adminUrl, `bench_latency_${process.pid}`, customers);
    const config = demoConfigFile((raw) => (raw.source.slot = `bench_latency_${process.pid}`));
    daemon = startDaemon(
      config,
      { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: API_KEY },
      duringBackfill ? [] : ['--no-backfill'],
    );
    await daemon.streaming;
    if (duringBackfill) await saturated(standIn);
    const backfillFrom = standIn.requests.length;
    const t0 = Date.now();
    w = new pg.Client({ connectionString: url });
    await w.connect();
    process.stdout.write(
      `latency: ${changes} changes, one every ${everyMs} ms, limit 60 requests/minute${duringBackfill ? `, during the initial backfill of ${customers.toLocaleString('en-US')} customers` : ''} (${cpus().length} cpus, load ${loadavg()[0]!.toFixed(1)})\n`,
    );
    // One warm-up change (connections, first request): not counted.
    await commitAndWait(w, standIn, 1, 'warmup');
    const latencies: number[] = [];
    let next = Date.now();
    for (let i = 0; i < changes; i++) {
      // Every change, the first one too, comes `everyMs` after the previous one.
      next += everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      const id = firstId + (i % (CUSTOMERS - 1));
      latencies.push(await commitAndWait(w, standIn, id, `L${i}`));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    if (duringBackfill) {
      const during = standIn.requests.slice(backfillFrom).filter((r) => r.status === 200);
      const minutes = (Date.now() - t0) / 60_000;
      process.stdout.write(
        `during the backfill of ${customers.toLocaleString('en-US')} customers: ${during.length} requests in ${(minutes * 60).toFixed(0)} s (${(during.length / minutes).toFixed(1)} a minute), ` +
          `${Math.round(during.reduce((n, r) => n + r.records, 0) / Math.max(1, during.length))} records each on average\n`,
      );
    }
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    process.stdout.write(
      `commit → receipt over ${latencies.length} changes: p50 ${p50} ms, p99 ${p99} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms\n` +
        `slowest: ${worst(latencies, 3)}\n` +
        `${duringBackfill ? '' : `target p50 ≤ 250 ms: ${p50 <= 250 ? 'met' : 'MISSED'}; `}target p99 ≤ ${target} ms: ${p99 <= target ? 'met' : 'MISSED'}; 429s: ${standIn.requests.filter((r) => r.status === 429).length}\n`,
    );
  } finally {
    await w?.end().catch(() => undefined);
    await daemon?.stop();
    await standIn.close();
    await pgs.close();
  }
}

/** Resolves once the backfill fills the budget: three full requests have arrived. */
async function saturated(standIn: Awaited<ReturnType<typeof startStandIn>>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (standIn.requests.filter((r) => r.status === 200 && r.records === 100).length < 3) {
    if (Date.now() > deadline) throw new Error('the backfill did not start sending full requests within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Commits one change to customer `id` and resolves with ms from COMMIT to the stand-in's receipt. */
async function commitAndWait(w: pg.Client, standIn: Awaited<ReturnType<typeof startStandIn>>, id: number, name: string): Promise<number> {
  const from = standIn.requests.length;
  await w.query(`UPDATE customers SET first_name = $2 WHERE id = $1`, [id, name]);
  const committed = Date.now();
  const deadline = committed + 30_000;
  for (;;) {
    const hit = standIn.requests.slice(from).find((r) => r.externalIds.includes(String(id)));
    if (hit) return hit.at - committed;
    if (Date.now() > deadline) throw new Error(`customer ${id} did not reach the stand-in within 30 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The n slowest latencies with the change number they belong to, e.g. "946 ms (#0)". */
function worst(latencies: readonly number[], n: number): string {
  return latencies
    .map((ms, i) => ({ ms, i }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, n)
    .map((x) => `${x.ms} ms (#${x.i})`)
    .join(', ');
}
