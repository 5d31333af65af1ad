/**
 * The composition root of `carecycle-sync run` (docs/architecture.md, "The pipeline"):
 * setup (idempotent) → mapping checked against the catalog → capture and delivery as services
 * → health and metrics → the initial backfill of a new slot. Resources are released in reverse
 * order of acquisition.
 */
import { quietCollector } from './quiet-gc.js';
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { requireApiKey } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { runSetup } from '../commands/setup.js';
import { readCatalog } from '../pg/catalog.js';
import { createMetrics, type Metrics } from '../observe/metrics.js';
import { stateCollector } from '../observe/metrics-collector.js';
import { startHealthServer, type HealthServer } from '../observe/health.js';
import { checkMapping, loadMappingPlan, mappedTables } from '../assemble/index.js';
import { requeueSchemaDeadLetters } from '../deliver/dead-letters.js';
import { createDelivery } from '../deliver/create.js';
import { concurrencyFor, type DeliveryLoop } from '../deliver/loop.js';
import { createCapture, type Capture } from '../source/capture.js';
import { ensureInitialBackfill } from '../backfill/index.js';
import { checkMappingChange } from '../backfill/reconcile.js';
import { openStateDb, type StateDb } from '../state/db.js';
import { countHeld } from '../queue/held.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs } from '../source/decisions.js';
import { errorPatch, publishBackfillRetry } from '../state/runtime.js';
import { readinessOf } from './readiness.js';
import { daemonConsole } from '../observe/console/index.js';
import { startMonitor } from '../observe/alerts/index.js';
import { collectStatus } from '../observe/status/collect.js';
import { batchObserver, captureMirror, omittedObserver, requestObserver, whileActive } from './wiring.js';
import { PgProblemTracker } from '../pg/problem-tracker.js';
import { pgProblem } from '../pg/sqlstate.js';
import { openSourcePool } from '../pg/pool.js';
import { acquire, type Releasers } from '../lib/releasers.js';

export interface DaemonOptions {
  config: Config;
  configPath: string;
  log: Logger;
  /** Port of /healthz, /readyz, /metrics; null for none. */
  port: number | null;
  /** Address the health server listens on (default all interfaces; the demo keeps it on loopback). */
  host?: string;
  /** Run `setup` first (idempotent). Default true. */
  setup?: boolean;
  /** Backfill a new slot by itself. Default true. */
  initialBackfill?: boolean;
  /** Limiter window, ms (tests shrink it). */
  windowMs?: number;
  idlePollMs?: number;
}

export interface Daemon {
  readonly capture: Capture;
  readonly delivery: DeliveryLoop;
  readonly metrics: Metrics;
  readonly health: HealthServer | null;
  /** Runs until `signal` aborts, then drains; `hard` cuts the drain short. */
  run(signal: AbortSignal, hard: AbortSignal): Promise<void>;
}

export async function startDaemon(o: DaemonOptions): Promise<Daemon> {
  const { config, log } = o;
  const apiKey = requireApiKey(config, o.configPath);
  if (o.setup !== false) {
    const r = await runSetup(config, { configPath: o.configPath });
    for (const a of r.actions) log.info({ component: 'setup' }, a);
    for (const w of r.warnings) log.warn({ component: 'setup', ...w }, w.message);
  }
  // Everything acquired from here on is released in reverse order: by run(), or right away
  // when set-up fails half-way.
  const { value } = await acquire(async (releasers) => {
    // One CRM connection per batch in flight (a raised budget runs several), at least 3.
    const width = concurrencyFor(config.carecycle.requestsPerMinute);
    const crm = releasers.add(
      'CRM pool',
      openSourcePool(config, { max: Math.max(3, width), application_name: 'carecycle-sync assemble' }),
      (p) => p.end().catch(() => undefined),
    );
    // Delivery batches, capture's flushes and the metrics collector share it.
    const state = releasers.add(
      'state database',
      openStateDb(config, { max: Math.max(6, width + 2), applicationName: 'carecycle-sync' }),
      (s) => s.close(),
    );
    const plan = await loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm, o.configPath);
    // The mapping matches the CRM again: customers held back by a schema change go by themselves.
    const requeued = await requeueSchemaDeadLetters(state);
    if (requeued > 0)
      log.info({ customers: requeued }, 'the mapping matches the CRM again: customers held back by a schema change are queued again');
    return assemble(o, apiKey, { crm, state, plan, releasers });
  });
  return value;
}

interface Acquired {
  crm: pg.Pool;
  state: StateDb;
  plan: Awaited<ReturnType<typeof loadMappingPlan>>;
  releasers: Releasers;
}

async function assemble(o: DaemonOptions, apiKey: string, { crm, state, plan, releasers }: Acquired): Promise<Daemon> {
  const { config, log } = o;
  const metrics = createMetrics({ onCollectError: (err) => log.debug({ err }, 'metrics refresh failed') });
  // Work re-arms one full collection for when it has been quiet a while (./quiet-gc.ts).
  const quiet = releasers.add('quiet collector', quietCollector(), (q) => q.close());
  const observeBatch = batchObserver(metrics);
  const collect = stateCollector({ state: state.pool, schema: state.schema, source: crm, slot: config.source.slot });
  const { loop: delivery } = releasers.add(
    'delivery',
    await createDelivery(config, {
      state,
      crm,
      plan,
      apiKey,
      log,
      windowMs: o.windowMs,
      idlePollMs: o.idlePollMs,
      observer: requestObserver(metrics, log),
      // Only the holder of the slot lock delivers: a standby must not spend the budget, and an
      // instance that lost the lock must not record anything over the new holder's sends.
      lease: () => capture.lease(),
      onOmitted: omittedObserver(metrics),
      explainSchemaError: async () => checkMapping(config, await readCatalog(crm, mappedTables(config)), crm),
      onBatch: (c) => {
        observeBatch(c);
        quiet.activity();
      },
    }),
    (d) => d.close(),
  );
  // Capture wakes delivery after each flush, so a live change does not wait for the idle poll.
  // A recreated slot is reconciled by the same backfill as a new one (src/source/slot-recreate.ts).
  let reconcile: () => void = () => undefined;
  let delivering: Promise<unknown> = Promise.resolve();
  const capture = createCapture({
    config,
    state,
    log,
    onFlushed: () => {
      delivery.wake();
      quiet.activity();
    },
    onSlotRecreated: () => reconcile(),
    // The lock and its lease outlive capture's own stop until delivery has drained.
    releaseAfter: () => delivering,
  });
  let connectedSince: Date | null = null;
  // The initial backfill's Postgres problem to fix, while it retries (see initialBackfill below).
  const backfillProblems = new PgProblemTracker({ log: log.child({ component: 'backfill' }), what: 'the initial backfill' });
  const mirror = captureMirror(metrics, capture);
  // Capture's counters are copied into Prometheus when someone looks (a scrape), not on a timer.
  metrics.setCollector(async (m) => {
    mirror();
    await collect(m);
  });
  const readiness = async () => {
    const c = capture.status();
    if (c.connected && !connectedSince) connectedSince = new Date();
    if (!c.connected) connectedSince = null;
    mirror();
    let heldCustomers = 0;
    const stateReachable = await countHeld(state).then(
      (held) => {
        heldCustomers = held.customers;
        metrics.heldCustomers.set(heldCustomers);
        return { ok: true };
      },
      (e: Error) => {
        // A wrong password or a missing grant says what to fix, not only what went wrong.
        const problem = pgProblem(e, 'state');
        return { ok: false, detail: problem ? `${problem.message}; fix: ${problem.fix}` : e.message };
      },
    );
    return readinessOf({
      capture: c,
      delivery: delivery.status(),
      stateReachable,
      heldCustomers,
      heartbeatSeconds: config.source.heartbeatSeconds,
      connectedSince,
      now: new Date(),
      stallMs: config.carecycle.stallSeconds * 1000,
      problems: [c.problem, delivery.status().problem, backfillProblems.problem],
    });
  };
  const routes = daemonConsole({ config, state, crm, readiness, log });
  const health =
    o.port === null
      ? null
      : releasers.add('health server', await startHealthServer({ port: o.port, host: o.host, metrics, readiness, log, routes }), (h) =>
          h.close(),
        );

  async function run(signal: AbortSignal, hard: AbortSignal): Promise<void> {
    // The `ready` gauge and the alert webhooks; never in the way of the services.
    const monitor = startMonitor({
      settings: config.alerts,
      instance: config.source.slot,
      readiness,
      status: () => collectStatus(state, crm, config),
      registry: metrics.registry,
      log,
      sender: { network: { proxy: config.carecycle.proxy, caFile: config.carecycle.caFile } },
    });
    releasers.defer('monitor', () => monitor.stop());
    // A service that fails for good (a lost slot) stops the others, so the process exits 1
    // instead of delivering on, half alive, from pools closed underneath it.
    const failed = new AbortController();
    const stop = AbortSignal.any([signal, failed.signal]);
    const guard = (p: Promise<void>) =>
      p.catch((err: unknown) => {
        failed.abort(err);
        throw err;
      });
    let backfill = o.initialBackfill === false ? Promise.resolve() : initialBackfill(stop);
    reconcile = () => {
      backfill = backfill.then(() => initialBackfill(stop));
    };
    try {
      delivering = guard(delivery.run(stop, hard));
      const results = await Promise.allSettled([guard(capture.run(stop)), delivering]);
      await backfill;
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    } finally {
      await releasers.release();
    }
  }

  /**
   * The backfill of a new slot, retried with backoff inside the running daemon when it fails (a
   * lost connection, a lock timeout): each failure is logged and shown by `status` until it works.
   */
  let mappingChecked = false;
  async function initialBackfill(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await whileActive(capture, signal);
        // Once this instance holds the slot: a mapping change requests the same backfill.
        if (!mappingChecked) mappingChecked = Boolean(await checkMappingChange(state, plan, config, log));
        // Each enqueued chunk wakes delivery: it sleeps until something is there to send.
        const r = await ensureInitialBackfill(state, crm, config, { signal, log, onProgress: () => delivery.wake() });
        if (r && !r.aborted)
          log.info({ runId: r.run.runId, enqueued: r.run.enqueued }, 'initial backfill enqueued; delivery drains it behind live changes');
        backfillProblems.cleared();
        if (attempt > 0)
          await publishBackfillRetry(state, { lastError: null, attempts: attempt, nextRetryAt: null, problem: null }).catch(
            () => undefined,
          );
        return;
      } catch (err) {
        if (signal.aborted) return;
        // Its Postgres work not marked with a connection reads the CRM or writes the state database.
        const { problem, waitMs: wait } = backfillProblems.failed(err, 'state', backoffMs(Math.min(attempt, 8)));
        if (!problem) log.error({ err, attempt: attempt + 1, retryInMs: wait }, 'initial backfill failed; retrying by itself');
        await publishBackfillRetry(state, {
          ...errorPatch(err),
          attempts: attempt + 1,
          nextRetryAt: new Date(Date.now() + wait).toISOString(),
          problem,
        }).catch(() => undefined);
        await sleep(wait, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  return { capture, delivery, metrics, health, run };
}
