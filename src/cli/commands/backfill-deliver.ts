import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import { apiKeyFileReader, requireApiKey } from '../../config/load.js';
import type { Logger } from '../../log/logger.js';
import type { StateDb } from '../../state/db.js';
import { publishDelivery } from '../../state/runtime.js';
import { SlotLock } from '../../source/lock.js';
import { takeHeldLease } from '../../queue/lease.js';
import { createSafety } from '../../deliver/safety.js';
import { readCatalog } from '../../pg/catalog.js';
import { createAssembler, loadMappingPlan, mappedTables } from '../../assemble/index.js';
import { createDeliveryClient, recordedBudget, stateLedger } from '../../deliver/index.js';
import { concurrencyFor, createDeliveryLoop, type DeliveryStatus } from '../../deliver/loop.js';
import { pgConfig } from '../../config/pg-connection.js';

/**
 * `backfill --wait` when no daemon is running: this process delivers, so the command ends when
 * the backfill is in CareCycle. Part of the backfill command's composition root.
 *
 * "No daemon" means the slot's advisory lock is free (src/source/lock.ts). We take that lock for
 * as long as we deliver, so a `run` started meanwhile waits as a standby instead of spending the
 * same request budget twice. Capture does not run here: changes made meanwhile stay in the slot
 * and the next `run` streams them; nothing is lost.
 */
export interface InlineDelivery {
  status(): DeliveryStatus;
  /** Aborts when this process lost the slot lock: it delivers no more. */
  readonly lost: AbortSignal;
  /** Stops delivering (the request in flight is finished and settled) and releases the lock. */
  stop(): Promise<void>;
}

/** Starts delivering in this process when the slot lock is free; null when a daemon holds it. */
export async function deliverIfNoDaemon(
  config: Config,
  configPath: string,
  state: StateDb,
  crm: pg.Pool,
  log: Logger,
): Promise<InlineDelivery | null> {
  const lock = new SlotLock(pgConfig(config, 'source', {}), config.source.slot);
  if (!(await lock.tryAcquire())) {
    await lock.release();
    return null;
  }
  try {
    // Taking the lease fences any earlier holder; losing the lock (a restart of the source, a
    // terminated connection) ends it at once, and the loop then claims and records nothing.
    const held = await takeHeldLease(state, config.source.slot);
    lock.onLost((err) => {
      log.warn({ err: err.message }, 'lost the slot lock: this command stops delivering (a starting daemon takes over)');
      held.end(err);
    });
    const apiKey = requireApiKey(config, configPath);
    const plan = await loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm, configPath);
    const client = createDeliveryClient({
      baseUrl: config.carecycle.baseUrl,
      apiKey,
      requestsPerMinute: config.carecycle.requestsPerMinute,
      timeoutMs: config.carecycle.timeoutMs,
      network: { proxy: config.carecycle.proxy, caFile: config.carecycle.caFile },
      log,
      authCooldownMs: config.carecycle.authRetrySeconds * 1000,
      reloadApiKey: apiKeyFileReader(),
      ledger: stateLedger(state),
      seed: await recordedBudget(state, 61_000),
      observer: () => {
        void publishDelivery(state, { lastRequestAt: new Date().toISOString() }).catch(() => undefined);
      },
    });
    const loop = createDeliveryLoop({
      state,
      log,
      batchSize: config.sync.batchSize,
      idlePollMs: 250,
      concurrency: concurrencyFor(config.carecycle.requestsPerMinute),
      fatalRetryMs: config.carecycle.authRetrySeconds * 1000,
      assembler: createAssembler({ config, crm, state, plan, log }),
      client: { deliver: client.deliver, ready: (signal) => client.ready(signal) },
      lease: () => (held.lease.lost.aborted ? null : held.lease),
      abandonGraceMs: config.carecycle.timeoutMs,
      safety: createSafety(state, config.sync.safety.maxCancellations, log),
    });
    const stop = new AbortController();
    const running = loop.run(stop.signal, new AbortController().signal);
    return {
      status: () => loop.status(),
      lost: held.lease.lost,
      stop: async () => {
        stop.abort();
        await running.catch(() => undefined);
        await client.close().catch(() => undefined);
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
