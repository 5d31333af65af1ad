/**
 * `npm run bench -- idle [--customers N] [--settle-s S] [--window-s S] [--plain] [--tsx]`
 * The footprint of an idle daemon: `carecycle-sync run` (config/demo.yaml, heartbeat on, the
 * default 60 requests/minute) backfills N customers (default 1,000) of a throwaway Postgres into
 * the stand-in; once the queue is drained and the backfill finished, it waits S s (default 25)
 * and then watches the daemon's process for a window (default 60 s): the peak RSS and its CPU
 * time over the window's wall time. Nothing changes in the CRM meanwhile, and the bench sends
 * the daemon nothing (no probes, no scrapes; --port off).
 * The daemon runs as the bundle `npm run build` makes, with the environment the image and the systemd units
 * set (NODE_OPTIONS, MALLOC_ARENA_MAX), as in production; --plain leaves that out, --tsx runs
 * the sources through tsx.
 * Target: RSS ≤ 70 MB, CPU ≤ 0.3 % of a core.
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { startStandIn } from '../src/carecycle/stand-in/index.js';
import { postgresCpuMs } from './lib/cpu.js';
import { buildBenchCli } from './lib/cli-build.js';
import { footprintLine, watchFootprint } from './lib/footprint.js';
import { API_KEY, benchPostgres, crmDatabase, demoConfigFile, PRODUCTION_NODE_ENV, query, startDaemon } from './lib/run-daemon.js';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      customers: { type: 'string', default: '1000' },
      'settle-s': { type: 'string', default: '25' },
      'window-s': { type: 'string', default: '60' },
      tsx: { type: 'boolean', default: false },
      plain: { type: 'boolean', default: false },
    },
  });
  const customers = Number(values.customers);
  const settleMs = Number(values['settle-s']) * 1000;
  const windowMs = Number(values['window-s']) * 1000;
  if (!(customers >= 1) || !(settleMs >= 0) || !(windowMs > 0))
    throw new Error('--customers and --window-s must be positive, --settle-s not negative');
  const entry = values.tsx ? undefined : [buildBenchCli()];
  const pgs = await benchPostgres();
  const standIn = await startStandIn({ apiKey: API_KEY, rpm: 60 });
  let daemon: ReturnType<typeof startDaemon> | undefined;
  try {
    const name = `bench_idle_${process.pid}`;
    const url = await crmDatabase(pgs.adminUrl, name, customers);
    const config = demoConfigFile((raw) => (raw.source.slot = name));
    const env = values.plain ? {} : PRODUCTION_NODE_ENV;
    daemon = startDaemon(config, { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: API_KEY, ...env }, [], entry);
    await daemon.streaming;
    const t0 = Date.now();
    await drained(url, 30 * 60_000);
    process.stdout.write(
      `idle bench: ${customers.toLocaleString('en-US')} customers backfilled in ${((Date.now() - t0) / 1000).toFixed(0)} s (${standIn.requests.length} requests); ` +
        `daemon on ${values.tsx ? 'tsx' : 'compiled JavaScript'}${
          values.plain
            ? ''
            : ` with ${Object.entries(PRODUCTION_NODE_ENV)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`
        }; waiting ${settleMs / 1000} s, then watching ${windowMs / 1000} s (${cpus().length} cpus, load ${loadavg()[0]!.toFixed(1)})\n`,
    );
    await new Promise((r) => setTimeout(r, settleMs));
    const requestsBefore = standIn.requests.length;
    const pg0 = pgs.dataDir ? postgresCpuMs(pgs.dataDir) : undefined;
    const f = await watchFootprint(daemon.child.pid!, windowMs);
    const pg1 = pgs.dataDir ? postgresCpuMs(pgs.dataDir) : undefined;
    const pgShare = pg0 === undefined || pg1 === undefined ? 'n/a' : `${(((pg1 - pg0) / f.wallMs) * 100).toFixed(2)} %`;
    process.stdout.write(`${footprintLine('idle', f)}\n`);
    process.stdout.write(
      `  over ${(f.wallMs / 1000).toFixed(1)} s, ${f.samples} RSS samples; Postgres (all backends) ${pgShare} of a core; requests to the stand-in meanwhile: ${standIn.requests.length - requestsBefore}; ` +
        `load ${loadavg()[0]!.toFixed(1)}\n` +
        `  target RSS ≤ 70 MB: ${f.peakRssBytes <= 70 * 2 ** 20 ? 'met' : 'MISSED'}; target CPU ≤ 0.3 %: ${f.cpuShare <= 0.003 ? 'met' : 'MISSED'}\n`,
    );
  } finally {
    await daemon?.stop();
    await standIn.close();
    await pgs.close();
  }
}

/** Resolves once the initial backfill run is finished and nothing is pending. */
async function drained(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await query<{ pending: number; unfinished: number; runs: number }>(
      url,
      `SELECT (SELECT count(*)::int FROM carecycle_sync.pending) AS pending,
              (SELECT count(*)::int FROM carecycle_sync.backfill WHERE finished_at IS NULL) AS unfinished,
              (SELECT count(*)::int FROM carecycle_sync.backfill) AS runs`,
    ).catch(() => [undefined]);
    if (row && row.runs > 0 && row.unfinished === 0 && row.pending === 0) return;
    if (Date.now() > deadline) throw new Error(`the backfill did not drain within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
