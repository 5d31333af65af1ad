/**
 * `carecycle-sync demo`: a throwaway Postgres with the sample CRM, the CareCycle stand-in on
 * loopback, the daemon (setup + initial backfill + live streaming, exactly as `run`), a
 * generator of live changes, and a view of what flows. On stop (Ctrl-C, SIGTERM, --duration):
 * generator → daemon drain → stand-in → Postgres → temp directory, within ~10 s; `force` (a
 * second Ctrl-C) cuts the drain and kills the server at once, still removing its directory.
 */
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStandIn, type StandIn } from '../carecycle/stand-in/index.js';
import { startDaemon, type Daemon } from '../daemon/daemon.js';
import { createLogger } from '../log/logger.js';
import { demoApiKey, demoConfig } from './config.js';
import { startDemoDatabase, type DemoDatabase } from './database.js';
import { createGenerator } from './generator.js';
import { createScreen, logRing, type Screen } from './screen.js';
import { createStatsReader, type DemoSnapshot } from './stats.js';
import { surviveLostConnections } from '../pg/pool.js';

export interface DemoOptions {
  customers: number;
  /** Live changes per second. */
  rate: number;
  /** Requests per minute of the stand-in and of the daemon's budget. */
  rpm: number;
  /** Stop by itself after this many seconds (non-interactive runs). */
  durationS?: number;
  /** Metrics/health port on 127.0.0.1 (0 = a free one), null for none. */
  port: number | null;
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream;
  /** First Ctrl-C / SIGTERM: stop cleanly. */
  stop: AbortSignal;
  /** Second Ctrl-C: stop now. */
  force: AbortSignal;
}

/** How long the daemon may take to finish its request in flight and confirm, of the 10 s budget. */
const DRAIN_MS = 4000;
/** How long Postgres gets for a fast shutdown before an immediate one. */
const PG_STOP_MS = 3000;

interface Parts {
  database?: DemoDatabase;
  standIn?: StandIn;
  daemon?: Daemon;
  statsDb?: pg.Pool;
}

/** Runs the demo until stopped; resolves with the exit code once everything is gone. */
export async function runDemo(o: DemoOptions): Promise<number> {
  const screen = createScreen({ out: o.out });
  const parts: Parts = {};
  let code = 0;
  let last: DemoSnapshot | undefined;
  const marks = { stoppingAt: 0 };
  // Through the screen, so the message does not tear the panel.
  o.stop.addEventListener(
    'abort',
    () => screen.message(`${reasonOf(o.stop)}: stopping the changes, draining the daemon, removing Postgres… (Ctrl-C again to force)`),
    { once: true },
  );
  o.force.addEventListener(
    'abort',
    () => screen.message(`${reasonOf(o.force)}: forcing: cutting the drain short, killing Postgres, removing its files`),
    { once: true },
  );
  try {
    const started = await startParts(o, parts, screen);
    if (started) last = await streamUntilStopped(o, parts as Required<Parts>, screen, { ...started, marks });
  } catch (err) {
    code = 1;
    screen.message(`demo failed: ${(err as Error).message}`);
  } finally {
    marks.stoppingAt ||= Date.now();
    await stopParts(parts, o.force, screen, last);
    o.out.write(`demo stopped in ${((Date.now() - marks.stoppingAt) / 1000).toFixed(1)} s\n`);
  }
  return code;
}

const reasonOf = (s: AbortSignal) => (s.reason instanceof Error ? s.reason.message : 'stop');

/** The answer forms the demo's stand-in uses: today's, the older one without `results`, and one with fields renamed or added. */
const DEMO_ANSWER_SHAPES = ['current', 'legacy', 'drifted'] as const;

interface Started {
  warnings: () => string[];
  startedAt: number;
}

async function startParts(o: DemoOptions, parts: Parts, screen: Screen): Promise<Started | undefined> {
  const startedAt = Date.now();
  screen.message(`carecycle-sync demo: starting a throwaway PostgreSQL with ${o.customers.toLocaleString('en-US')} sample customers…`);
  const db = (parts.database = await startDemoDatabase(o.customers));
  const c = db.cluster;
  screen.message(`  PostgreSQL ${c.version} (${db.binaries.origin}) on 127.0.0.1:${c.port}, data in ${c.dataDir}`);
  screen.message(
    `  sample CRM: ${db.customers} customers, ${db.policies} policies — try: psql ${db.url} -c "UPDATE customers SET email = 'me@example.com' WHERE id = 1"`,
  );
  if (o.stop.aborted) return undefined;
  const apiKey = demoApiKey();
  parts.standIn = await startStandIn({ apiKey, rpm: o.rpm });
  // CareCycle's documented answers come in more than one form; each demo run meets one of them.
  const shape = DEMO_ANSWER_SHAPES[Math.floor(Math.random() * DEMO_ANSWER_SHAPES.length)]!;
  parts.standIn.faults.set({ answerShape: shape });
  const { config, path } = demoConfig({ databaseUrl: db.url, standInUrl: parts.standIn.url, apiKey, requestsPerMinute: o.rpm });
  screen.message(`  CareCycle stand-in: ${parts.standIn.url} (${o.rpm} requests/min, answering in the ${shape} form)`);
  // On a terminal the daemon's warnings go into the panel; elsewhere to stderr as usual.
  const ring = logRing(20, o.out.isTTY ? undefined : o.err);
  const log = createLogger({ level: 'warn', destination: ring });
  parts.daemon = await startDaemon({ config, configPath: path, log, port: o.port, host: '127.0.0.1' });
  if (parts.daemon.health) {
    const base = `http://127.0.0.1:${parts.daemon.health.port}`;
    screen.message(`  metrics: ${base}/metrics (also /healthz, /readyz); status page: ${base}/`);
  }
  parts.statsDb = surviveLostConnections(new pg.Pool({ connectionString: db.url, max: 2, application_name: 'carecycle-sync demo view' }));
  screen.message(
    `  live changes: ${o.rate}/s${o.durationS ? `; stops after ${o.durationS} s` : ''}; Ctrl-C stops everything and removes it\n`,
  );
  // Once the daemon exists it must run (even if already stopped): its run() is what closes it.
  return { warnings: ring.lines, startedAt };
}

async function streamUntilStopped(
  o: DemoOptions,
  p: Required<Parts>,
  screen: Screen,
  s: Started & { marks: { stoppingAt: number } },
): Promise<DemoSnapshot> {
  const soft = new AbortController();
  const hard = new AbortController();
  const onForce = () => hard.abort(new Error('forced'));
  o.force.addEventListener('abort', onForce, { once: true });
  let daemonError: unknown;
  const daemonRun = p.daemon.run(soft.signal, hard.signal).catch((err: unknown) => void (daemonError = err));
  const genStop = new AbortController();
  const generator = createGenerator({ url: p.database.url, rate: o.rate });
  const genRun = generator
    .run(genStop.signal)
    .catch((err: unknown) => void screen.message(`change generator stopped: ${(err as Error).message}`));
  const read = createStatsReader({
    daemon: p.daemon,
    standIn: p.standIn,
    db: p.statsDb,
    schema: 'carecycle_sync',
    slot: 'carecycle_sync',
    rpm: o.rpm,
    changes: generator.stats,
    warnings: s.warnings,
    startedAt: s.startedAt,
  });
  const ended = new AbortController();
  void daemonRun.then(() => ended.abort());
  const until = AbortSignal.any([o.stop, ended.signal, ...(o.durationS ? [AbortSignal.timeout(o.durationS * 1000)] : [])]);
  while (!until.aborted) {
    screen.draw(await read());
    await sleep(1000, undefined, { signal: until }).catch(() => undefined);
  }
  s.marks.stoppingAt = Date.now();
  // Stop order: no new changes → the daemon finishes the request in flight and confirms.
  genStop.abort();
  await Promise.race([genRun, sleep(1000)]);
  soft.abort(new Error('demo stopping'));
  const deadline = setTimeout(() => hard.abort(new Error('drain deadline')), DRAIN_MS);
  await daemonRun;
  clearTimeout(deadline);
  o.force.removeEventListener('abort', onForce);
  if (daemonError && !o.stop.aborted) throw new Error(`the daemon stopped: ${(daemonError as Error).message}`, { cause: daemonError });
  return { ...(await read()), stopped: true };
}

/** Releases whatever was started, in reverse order; never throws. */
async function stopParts(p: Parts, force: AbortSignal, screen: Screen, last: DemoSnapshot | undefined): Promise<void> {
  screen.close(last);
  await p.statsDb?.end().catch(() => undefined);
  await p.standIn?.close().catch(() => undefined);
  if (p.database) {
    const { cluster } = p.database;
    await cluster
      .destroy(force.aborted ? 0 : PG_STOP_MS)
      .catch((err: unknown) => screen.message(`could not remove ${cluster.dataDir}: ${(err as Error).message}`));
    screen.message(`demo stopped: PostgreSQL on port ${cluster.port} shut down, ${cluster.dataDir.replace(/\/data$/, '')} removed`);
  }
}
