/**
 * `npm run bench -- latency [--changes N] [--every-ms MS]`
 * Commit → CareCycle receipt, end to end: `carecycle-sync run` (a child process, config/demo.yaml,
 * the default 60 requests/minute) streams from a throwaway Postgres to the stand-in in this
 * process. One customer update is committed every 2 s (default 60 changes = 2 minutes); its
 * latency is the stand-in's arrival time of the first request carrying that customer minus the
 * writer's clock right after COMMIT (same machine, same clock).
 * Target: p50 ≤ 250 ms, p99 ≤ 1 s.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startStandIn } from '../src/carecycle/stand-in/index.js';
import { API_KEY, benchPostgres, crmDatabase, demoConfigFile, percentile, startDaemon } from './lib/run-daemon.js';

const CUSTOMERS = 100;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { changes: { type: 'string', default: '60' }, 'every-ms': { type: 'string', default: '2000' } } });
  const changes = Number(values.changes);
  const everyMs = Number(values['every-ms']);
  if (!(changes >= 1) || !(everyMs >= 1)) throw new Error('--changes and --every-ms must be positive numbers');
  const pgs = await benchPostgres();
  const standIn = await startStandIn({ apiKey: API_KEY, rpm: 60 });
  let daemon: ReturnType<typeof startDaemon> | undefined;
  let w: pg.Client | undefined;
  try {
    const url = await crmDatabase(pgs.adminUrl, `bench_latency_${process.pid}`, CUSTOMERS);
    const config = demoConfigFile((raw) => (raw.source.slot = `bench_latency_${process.pid}`));
    daemon = startDaemon(config, { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: API_KEY }, ['--no-backfill']);
    await daemon.streaming;
    w = new pg.Client({ connectionString: url });
    await w.connect();
    process.stdout.write(`latency: ${changes} changes, one every ${everyMs} ms, limit 60 requests/minute (${cpus().length} cpus, load ${loadavg()[0]!.toFixed(1)})\n`);
    // One warm-up change (connections, first request): not counted.
    await commitAndWait(w, standIn, 1, 'warmup');
    const latencies: number[] = [];
    let next = Date.now();
    for (let i = 0; i < changes; i++) {
      // Every change, the first one too, comes `everyMs` after the previous one.
      next += everyMs;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
      const id = 2 + (i % (CUSTOMERS - 1));
      latencies.push(await commitAndWait(w, standIn, id, `L${i}`));
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    process.stdout.write(
      `commit → receipt over ${latencies.length} changes: p50 ${p50} ms, p99 ${p99} ms, min ${sorted[0]} ms, max ${sorted.at(-1)} ms\n` +
        `slowest: ${worst(latencies, 3)}\n` +
        `target p50 ≤ 250 ms: ${p50 <= 250 ? 'met' : 'MISSED'}; target p99 ≤ 1000 ms: ${p99 <= 1000 ? 'met' : 'MISSED'}; 429s: ${standIn.requests.filter((r) => r.status === 429).length}\n`,
    );
  } finally {
    await w?.end().catch(() => undefined);
    await daemon?.stop();
    await standIn.close();
    await pgs.close();
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
