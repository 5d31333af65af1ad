import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { FatalError } from '../errors.js';
import { readCheckpoint } from '../queue/enqueue.js';
import { heldLease, takeLease, type HeldLease, type Lease } from '../queue/lease.js';
import type { StateDb } from '../state/db.js';
import { errorPatch, publishCapture } from '../state/runtime.js';
import { buildRoutes } from './changes.js';
import { backoffMs, statusIntervalMs } from './decisions.js';
import { emitHeartbeat } from './heartbeat.js';
import { SlotLock } from './lock.js';
import { readSlotFacts, RESET_SLOT, slotHealth, slotProblem, foreignSlotFix } from '../pg/slot.js';
import { MAX_RECREATIONS_PER_HOUR, mayRecreate, readWalSenderTimeoutMs } from './slot-health.js';
import { readRecreations, recreateSlot } from './slot-recreate.js';
import { maxLsn, parseLsn, type Lsn } from './lsn.js';
import { CaptureSession } from './session.js';
import { initialStatus, type CaptureStatus } from './status.js';
import { pgConfig } from '../config/pg-connection.js';
import { explainTlsFailureIn } from '../config/pg-tls-errors.js';
import { onConnection } from '../pg/sqlstate.js';
import { PgProblemTracker } from '../pg/problem-tracker.js';

export type { CaptureStatus } from './status.js';

export interface CaptureOptions {
  config: Config;
  state: StateDb;
  log: Logger;
  /** How often a standby retries the slot lock (default 1 s). */
  lockPollMs?: number;
  /** Called after each flush that made keys durable in `pending` (the daemon wakes delivery). */
  onFlushed?: (keys: number) => void;
  /** Called after a lost slot was recreated (the daemon runs the reconcile's backfill). */
  onSlotRecreated?: (reason: string) => void;
  /**
   * At shutdown the slot lock (and with it the delivery lease) is kept until this resolves: the
   * daemon passes its delivery's drain, so the request in flight can finish and settle.
   */
  releaseAfter?: () => Promise<unknown>;
}

export interface Capture {
  /** Captures until `signal` aborts (then drains and resolves); rejects only on a fatal error. */
  run(signal: AbortSignal): Promise<void>;
  status(): CaptureStatus;
  /** The delivery lease of this instance while it holds the slot lock; null otherwise. */
  lease(): Lease | null;
}

/**
 * The capture service: take the slot lock (or wait as a hot standby), stream from the durable
 * position, and on any failure — connection loss, terminated walsender, server restart, state
 * database errors — back off and start again from the checkpoint. Only a missing or lost slot
 * or an unmappable table stops it (FatalError).
 */
export function createCapture(opts: CaptureOptions): Capture {
  const { config, state } = opts;
  const log = opts.log.child({ component: 'capture' });
  const status = initialStatus(config.source.slot);
  const routes = buildRoutes(config);

  const publish = () =>
    publishCapture(state, {
      connected: status.connected,
      standby: status.isStandby,
      lastHeartbeatAt: status.lastHeartbeatAt?.toISOString() ?? null,
    }).catch(() => undefined);
  // A wrong password or a missing grant is retried slowly and shown until it is fixed.
  const problems = new PgProblemTracker({
    log,
    what: 'capture',
    onChange: (problem) => {
      status.problem = problem;
      void publishCapture(state, { problem }).catch(() => undefined);
    },
  });

  /** Held from the lock's acquisition until it is lost or released (see src/queue/lease.ts). */
  let held: HeldLease | null = null;
  const endLease = (reason: Error) => {
    held?.end(reason);
    held = null;
  };
  let onLockLost: ((err: Error) => void) | null = null;

  async function runOnce(lock: SlotLock, signal: AbortSignal): Promise<boolean> {
    if (!(await onConnection('source', waitForLock(lock, signal, status, opts.lockPollMs ?? 1000, publish)))) return false;
    // A new acquisition fences every earlier holder before this one delivers anything.
    if (!held) held = heldLease(config.source.slot, await onConnection('state', takeLease(state, config.source.slot)));
    const pos = await startPosition(lock, state, {
      config,
      log,
      onRecreated: (reason) => {
        status.slotRecreations++;
        opts.onSlotRecreated?.(reason);
      },
    });
    // Stopped while taking the lock or reading the position: an abort listener added from
    // here on would never fire (the signal has already aborted), and the session would stream
    // on forever. Nothing has started yet; the caller releases the lock.
    if (signal.aborted) return false;
    const sessionAbort = new AbortController();
    let lost: Error | undefined;
    const forward = () => sessionAbort.abort();
    signal.addEventListener('abort', forward, { once: true });
    onLockLost = (err) => {
      lost = err;
      sessionAbort.abort();
    };
    const beat = setInterval(() => {
      if (!lock.isHeld || !status.connected) return;
      emitHeartbeat(lock.connection, config.source.slot).catch((err: Error) => log.debug({ err: err.message }, 'heartbeat failed'));
      void publish();
    }, config.source.heartbeatSeconds * 1000);
    const session = new CaptureSession({
      config,
      state,
      log,
      routes,
      status,
      startLsn: pos.start,
      walSenderTimeoutMs: pos.walSenderTimeoutMs,
      statusIntervalMs: statusIntervalMs(pos.walSenderTimeoutMs),
      onFlushed: opts.onFlushed,
      onProblem: (message) =>
        void publishCapture(state, { lastError: message, lastErrorAt: new Date().toISOString() }).catch(() => undefined),
      onStarted: () => problems.cleared(),
    });
    try {
      await session.run(sessionAbort.signal);
      if (lost) throw new Error(`lost the slot lock: ${lost.message}`, { cause: lost });
      return session.started;
    } finally {
      clearInterval(beat);
      onLockLost = null;
      signal.removeEventListener('abort', forward);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    const lock = new SlotLock(pgConfig(config, 'source', {}), config.source.slot);
    // Whenever the lock goes, even between sessions, the lease ends at once: delivery stops.
    lock.onLost((err) => {
      log.warn({ err: err.message }, 'lost the slot lock: delivery stops until it is held again');
      endLease(err);
      onLockLost?.(err);
    });
    let attempt = 0;
    try {
      while (!signal.aborted) {
        try {
          if (await runOnce(lock, signal)) attempt = 0;
        } catch (err) {
          status.lastError = { message: (err as Error).message, at: new Date() };
          void publishCapture(state, { connected: false, ...errorPatch(err) }).catch(() => undefined);
          if (err instanceof FatalError) throw err;
          status.reconnects++;
          const { problem, waitMs: wait } = problems.failed(err, 'source', backoffMs(attempt++));
          const tls = explainTlsFailureIn(err, config);
          // A problem that needs a person was logged once, at error level, with its fix.
          log[problem ? 'debug' : 'warn'](
            { err: (err as Error).message, retryInMs: wait, ...(tls ? { reason: tls.detail, fix: tls.fix } : {}) },
            'capture interrupted; resuming from the checkpoint',
          );
          await sleep(wait, signal);
        }
      }
    } finally {
      status.connected = false;
      status.isStandby = false;
      // Only a requested stop waits (a fatal error must reach the daemon, which then stops delivery).
      if (signal.aborted) await opts.releaseAfter?.().catch(() => undefined);
      endLease(new Error('capture stopped'));
      await lock.release();
      await publish();
    }
  }

  return { run, status: () => ({ ...status }), lease: () => held?.lease ?? null };
}

/** Returns false when aborted while waiting. Connection failures throw (the caller backs off). */
async function waitForLock(
  lock: SlotLock,
  signal: AbortSignal,
  status: CaptureStatus,
  pollMs: number,
  publish: () => Promise<unknown>,
): Promise<boolean> {
  while (!signal.aborted) {
    if (await lock.tryAcquire()) {
      if (status.isStandby) {
        status.isStandby = false;
        void publish();
      }
      return true;
    }
    if (!status.isStandby) {
      status.isStandby = true;
      void publish();
    }
    await sleep(pollMs, signal);
  }
  return false;
}

interface StartPosition {
  start: Lsn;
  walSenderTimeoutMs: number;
}

interface Healing {
  config: Config;
  log: Logger;
  onRecreated: (reason: string) => void;
}

/**
 * Start from max(persisted checkpoint, the slot's confirmed_flush_lsn): both only ever hold
 * positions whose keys are durable, and Postgres would not go back before the latter anyway.
 * A missing or invalidated slot is recreated (source.onSlotLost: recreate, at most 3 times an
 * hour; src/source/slot-recreate.ts) or stops capture with what to do.
 */
async function startPosition(lock: SlotLock, state: StateDb, heal: Healing): Promise<StartPosition> {
  const slot = heal.config.source.slot;
  const facts = await onConnection('source', readSlotFacts(lock.connection, slot));
  const walSenderTimeoutMs = await onConnection('source', readWalSenderTimeoutMs(lock.connection));
  const health = slotHealth(facts);
  if (health.state === 'foreign') throw new FatalError(`${slotProblem(slot, health)}\n  fix: ${foreignSlotFix(slot)}`);
  if (health.state !== 'usable') {
    const loss = health.reason;
    const problem = slotProblem(slot, health);
    if (heal.config.source.onSlotLost !== 'recreate') throw new FatalError(`${problem}\n  fix: ${RESET_SLOT}`);
    const history = await readRecreations(state);
    if (!mayRecreate(history.recent, new Date())) {
      throw new FatalError(
        `${problem}; it was already recreated ${MAX_RECREATIONS_PER_HOUR} times in the last hour: stopping for a person to look (max_slot_wal_keep_size too small? another tool dropping it?)\n  fix: ${RESET_SLOT}`,
      );
    }
    const lsn = await recreateSlot(lock.connection, state, heal.config, loss);
    heal.log.error(
      { slot, reason: loss, newSlotLsn: lsn, recreations: history.recreations + 1 },
      `replication slot "${slot}" was lost (${loss}): created a new one and reconciling every customer; changes made meanwhile reach CareCycle as the reconcile drains`,
    );
    heal.onRecreated(loss);
    return { start: parseLsn(lsn), walSenderTimeoutMs };
  }
  const checkpoint = parseLsn(await onConnection('state', readCheckpoint(state, slot)));
  return { start: maxLsn(checkpoint, parseLsn(facts?.confirmedFlushLsn ?? null)), walSenderTimeoutMs };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
