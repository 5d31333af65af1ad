import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import { requireApiKey } from '../../config/load.js';
import type { Logger } from '../../log/logger.js';
import type { StateDb } from '../../state/db.js';
import { SlotLock } from '../../source/lock.js';
import { takeHeldLease } from '../../queue/lease.js';
import { readCatalog } from '../../pg/catalog.js';
import { loadMappingPlan, mappedTables } from '../../assemble/index.js';
import { createDelivery } from '../../deliver/create.js';
import type { DeliveryStatus } from '../../deliver/loop.js';
import { acquire } from '../../lib/releasers.js';
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
  // Released in reverse order: the loop is stopped (its request settled), the client closed, and
  // only then the lock let go; a failure half-way releases what was taken.
  const { value, releasers } = await acquire(async (r) => {
    const lock = r.add('slot lock', new SlotLock(pgConfig(config, 'source', {}), config.source.slot), (l) => l.release());
    if (!(await lock.tryAcquire())) return null;
    // Taking the lease fences any earlier holder; losing the lock (a restart of the source, a
    // terminated connection) ends it at once, and the loop then claims and records nothing.
    const held = await takeHeldLease(state, config.source.slot);
    lock.onLost((err) => {
      log.warn({ err: err.message }, 'lost the slot lock: this command stops delivering (a starting daemon takes over)');
      held.end(err);
    });
    const apiKey = requireApiKey(config, configPath);
    const plan = await loadMappingPlan(config, await readCatalog(crm, mappedTables(config)), crm, configPath);
    const delivery = r.add(
      'delivery',
      await createDelivery(config, {
        state,
        crm,
        plan,
        apiKey,
        log,
        idlePollMs: 250,
        lease: () => (held.lease.lost.aborted ? null : held.lease),
      }),
      (d) => d.close(),
    );
    const stop = new AbortController();
    const running = delivery.loop.run(stop.signal, new AbortController().signal);
    r.defer('delivery loop', async () => {
      stop.abort();
      await running.catch(() => undefined);
    });
    return { loop: delivery.loop, lost: held.lease.lost };
  });
  if (!value) {
    await releasers.release();
    return null;
  }
  return { status: () => value.loop.status(), lost: value.lost, stop: () => releasers.release() };
}
