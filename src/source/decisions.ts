import type { Lsn } from './lsn.js';

/**
 * The pure decisions of the capture loop: when to flush keys into `pending`, which LSN a flush
 * makes durable, and when a keepalive position may be confirmed. The loop around them only
 * does I/O. Durability order (docs/architecture.md): keys and checkpoint commit in one state transaction,
 * THEN the LSN is confirmed to Postgres.
 */

export interface FlushInputs {
  /** Distinct keys (customer + policy keys to resolve) buffered since the last flush started. */
  bufferedKeys: number;
  /** A truncate is buffered (resolved in SQL at flush time). */
  bufferedTruncate: boolean;
  maxKeys: number;
  sinceLastFlushMs: number;
  intervalMs: number;
  /** End LSN of the last commit whose keys are all buffered or flushed. */
  lastCommit: Lsn;
  /** Highest LSN known safe (all keys before it durable, or a confirmed keepalive position). */
  durable: Lsn;
  /** Highest LSN written to the checkpoint row. */
  persisted: Lsn;
  /** A flush is being written now. */
  flushing: boolean;
}

export type FlushReason = 'full' | 'interval' | 'commit' | 'keepalive' | null;

/**
 * Keepalive positions are persisted lazily: they only shorten the replay after a restart. At
 * most once a minute: with the state in the source database, each such write makes WAL, the
 * walsender answers with a keepalive past it, and a short interval turned that into a write
 * every few seconds forever, on a daemon with nothing to do.
 */
export const KEEPALIVE_PERSIST_MS = 60_000;

/** Whether to start a flush now, and why. Never two at once: flushes commit in LSN order. */
export function flushReason(i: FlushInputs): FlushReason {
  if (i.flushing) return null;
  if (i.bufferedKeys >= i.maxKeys) return 'full';
  const due = i.sinceLastFlushMs >= i.intervalMs;
  if (due && (i.bufferedKeys > 0 || i.bufferedTruncate)) return 'interval';
  if (due && i.lastCommit > i.persisted) return 'commit';
  if (i.durable > i.persisted && i.sinceLastFlushMs >= Math.max(i.intervalMs, KEEPALIVE_PERSIST_MS)) return 'keepalive';
  return null;
}

/**
 * How long until `flushReason` could next say yes, or null when nothing waits (nothing buffered,
 * every commit and keepalive position persisted): then capture sets no timer, and the next
 * change, commit or keepalive asks again. An idle stream costs no wake-ups.
 */
export function nextFlushCheckMs(i: FlushInputs): number | null {
  // A flush in flight asks again when it ends; this is only the fallback.
  if (i.flushing) return i.intervalMs;
  const since = Math.max(0, i.sinceLastFlushMs);
  if (i.bufferedKeys > 0 || i.bufferedTruncate || i.lastCommit > i.persisted) return Math.max(0, i.intervalMs - since);
  if (i.durable > i.persisted) return Math.max(0, Math.max(i.intervalMs, KEEPALIVE_PERSIST_MS) - since);
  return null;
}

/**
 * The LSN a flush makes durable: the last commit processed when its buffer was taken (every key
 * of every transaction up to that commit is in the buffer or already durable). Keys of a
 * transaction still open are flushed too, but its commit is not reached, so it is replayed.
 */
export function flushCheckpoint(lastCommitAtTake: Lsn, durable: Lsn): Lsn {
  return lastCommitAtTake > durable ? lastCommitAtTake : durable;
}

export interface KeepaliveInputs {
  walEnd: Lsn;
  durable: Lsn;
  lastCommit: Lsn;
  inTransaction: boolean;
  /** Messages received by the library but not yet handled (it queues them under flowControl). */
  unhandledMessages: number;
  bufferedKeys: number;
  bufferedTruncate: boolean;
  flushing: boolean;
}

/**
 * A keepalive's WAL position may be confirmed only when nothing is in flight: every message
 * before it was handled, no transaction is open, no key waits in memory or in a flush, and all
 * commits seen are durable. Then everything up to walEnd is either durable or irrelevant (other
 * tables), and confirming it stops an idle publication from pinning WAL. Returns the LSN to
 * confirm, or null.
 */
export function keepaliveConfirm(i: KeepaliveInputs): Lsn | null {
  if (i.inTransaction || i.unhandledMessages !== 0 || i.flushing) return null;
  if (i.bufferedKeys > 0 || i.bufferedTruncate) return null;
  if (i.lastCommit > i.durable) return null;
  return i.walEnd > i.durable ? i.walEnd : null;
}

/** Standby status interval: 0.75 × wal_sender_timeout, 10 s when the timeout is disabled. */
export function statusIntervalMs(walSenderTimeoutMs: number): number {
  if (walSenderTimeoutMs <= 0) return 10_000;
  return Math.max(100, Math.floor(walSenderTimeoutMs * 0.75));
}

/** Reconnect delay: 250 ms doubling to 30 s, with ±20 % jitter so standbys do not stampede. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 250 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.8 + 0.4 * random()));
}
