/**
 * `npm run bench -- skew [--changes N] [--customers N] [--rate R]`
 * Coalescing under a skewed workload, end to end: `carecycle-sync run` (a child process,
 * config/demo.yaml, the default 60 requests/minute) while one writer commits 10,000 changes
 * (one UPDATE per transaction, as fast as it can or R per second), 80 % of them to the hottest
 * 20 % of 1,000 customers. Prints requests per 1,000 changes and the total against the ideal
 * of one full request per 100 distinct customers.
 * Target: requests ≤ 1.05 × distinct customers / 100.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import pg from 'pg';
import { startStandIn } from '../src/carecycle/stand-in/index.js';
import { seeded } from '../test/deliver/helpers.js';
import { API_KEY, benchPostgres, crmDatabase, demoConfigFile, query, startDaemon } from './lib/run-daemon.js';

/** Pure: the customer of each change; `hotShare` of changes go to the first `hotFraction` of customers. */
export function skewedWorkload(changes: number, customers: number, random: () => number, hotShare = 0.8, hotFraction = 0.2): number[] {
  const hot = Math.max(1, Math.round(customers * hotFraction));
  return Array.from({ length: changes }, () =>
    random() < hotShare ? 1 + Math.floor(random() * hot) : hot + 1 + Math.floor(random() * (customers - hot)),
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      changes: { type: 'string', default: '10000' },
      customers: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '0' },
    },
  });
  const changes = Number(values.changes);
  const customers = Number(values.customers);
  const rate = Number(values.rate);
  const pgs = await benchPostgres();
  const standIn = await startStandIn({ apiKey: API_KEY, rpm: 60 });
  let daemon: ReturnType<typeof startDaemon> | undefined;
  let w: pg.Client | undefined;
  try {
    const url = await crmDatabase(pgs.adminUrl, `bench_skew_${process.pid}`, customers);
    const config = demoConfigFile((raw) => (raw.source.slot = `bench_skew_${process.pid}`));
    daemon = startDaemon(config, { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: API_KEY }, ['--no-backfill']);
    await daemon.streaming;
    w = new pg.Client({ connectionString: url });
    await w.connect();
    const plan = skewedWorkload(changes, customers, seeded(42));
    const distinct = new Set(plan).size;
    process.stdout.write(
      `skew: ${changes} changes over ${customers} customers (80 % to the hottest 20 %), ${distinct} distinct, limit 60 requests/minute (${cpus().length} cpus, load ${loadavg()[0]!.toFixed(1)})\n`,
    );
    const t0 = Date.now();
    const last = new Map<number, string>();
    for (let i = 0; i < plan.length; i++) {
      const id = plan[i]!;
      last.set(id, `S${i}`);
      await w.query('UPDATE customers SET first_name = $2 WHERE id = $1', [id, `S${i}`]);
      if (rate > 0) await new Promise((r) => setTimeout(r, Math.max(0, t0 + ((i + 1) * 1000) / rate - Date.now())));
    }
    const wroteMs = Date.now() - t0;
    await waitDelivered(standIn, last, url);
    const drainedMs = Date.now() - t0;
    const ok = standIn.requests.filter((r) => r.status === 200);
    const all = standIn.requests.length;
    const records = ok.reduce((n, r) => n + r.records, 0);
    const perThousand = (ok.length * 1000) / changes;
    const blockTarget = (1.05 * distinctPerBlock(plan, 1000)) / 100;
    const wholeTarget = (1.05 * distinct) / 100;
    process.stdout.write(
      `wrote ${changes} changes in ${(wroteMs / 1000).toFixed(1)} s; all delivered after ${(drainedMs / 1000).toFixed(1)} s\n` +
        `requests: ${ok.length} (${all - ok.length} not 200), ${records} records (${(changes / records).toFixed(1)} changes per record sent), ${(records / ok.length).toFixed(1)} records/request\n` +
        `requests per 1,000 changes: ${perThousand.toFixed(2)}; target ≤ 1.05 × distinct customers per 1,000 changes / 100 = ${blockTarget.toFixed(2)}: ${perThousand <= blockTarget ? 'met' : 'MISSED'}\n` +
        `whole run: ${ok.length} requests for ${distinct} distinct customers; ≤ 1.05 × ${distinct} / 100 = ${wholeTarget.toFixed(2)}: ${ok.length <= wholeTarget ? 'met' : 'missed'} ` +
        `(a hot customer changed after its send is sent again)\n`,
    );
  } finally {
    await w?.end().catch(() => undefined);
    await daemon?.stop();
    await standIn.close();
    await pgs.close();
  }
}

/** Pure: the mean number of distinct customers in consecutive blocks of `size` changes. */
export function distinctPerBlock(plan: readonly number[], size: number): number {
  let sum = 0;
  let blocks = 0;
  for (let i = 0; i < plan.length; i += size, blocks++) sum += new Set(plan.slice(i, i + size)).size;
  return blocks ? sum / blocks : 0;
}

/** Until every customer's last written name is stored and nothing is pending. */
async function waitDelivered(standIn: Awaited<ReturnType<typeof startStandIn>>, last: Map<number, string>, url: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const behind = [...last].filter(([id, name]) => standIn.store.byExternalId(String(id))?.fields.firstName !== name).length;
    if (behind === 0) {
      const [p] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM carecycle_sync.pending');
      if (p!.n === 0) return;
    }
    if (Date.now() > deadline) throw new Error(`${behind} customers still not delivered after 10 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
