/**
 * The delivery loop's contract (options, status, the loop's interface) and its pure rules: how
 * many batches to keep in flight, and how far to top a request up. The loop is in ./loop.ts.
 */
import type { Assembler } from '../assemble/index.js';
import type { Logger } from '../log/logger.js';
import type { StateDb } from '../state/db.js';
import type { DeliveryClient } from './client.js';
import type { LeaseSource } from '../queue/lease.js';
import type { Safety } from './safety.js';
import type { Problem } from '../errors.js';
import type { SettleCounts } from './queue-state.js';
export interface DeliveryLoopOptions {
  state: StateDb;
  assembler: Assembler;
  client: Pick<DeliveryClient, 'deliver'> & { ready?(signal?: AbortSignal): Promise<void> };
  /**
   * The delivery lease of the slot lock's holder (src/queue/lease.ts). The loop claims nothing
   * without one; a batch claimed under a lease that is lost meanwhile has its request aborted and
   * records nothing: its customers are left for the holder to send again.
   */
  lease: LeaseSource;
  /**
   * How long CareCycle may still be applying a request this instance gave up on (the request
   * timeout): a batch cut off by the loss of the lease is handed back to the holder only after
   * that, so a late-landing older payload is overwritten by a fresh send, not the other way round.
   */
  abandonGraceMs?: number;
  /** The mapping checked against the catalog as it is now, to explain an assembly query that fails on the CRM's shape. */
  explainSchemaError?: () => Promise<Problem[]>;
  /** The mass-cancellation rail (src/deliver/safety.ts); none in tests that do not exercise it. */
  safety?: Safety;
  log: Logger;
  /** Keys per batch (config.sync.batchSize, at most 100). */
  batchSize: number;
  /** How often to look at `pending` when idle and nobody woke us (ms; default IDLE_POLL_MS). */
  idlePollMs?: number;
  /** After a rejected key or wrong endpoint, wait this long before trying again (ms). */
  fatalRetryMs?: number;
  /**
   * Batches in flight at once (default 1). More only pays when the budget allows a request
   * sooner than one batch takes (assemble + request + settle, tens of ms): at 60 a minute one
   * batch per slot is right, and claiming early would only make batches smaller.
   */
  concurrency?: number;
  /** Called after each settled batch (metrics). */
  onBatch?: (counts: SettleCounts & { records: number; priority: number }) => void;
}

/**
 * The idle loop sleeps until woken: capture wakes it after each flush, the daemon after each
 * chunk of its own backfill. This poll only catches keys that another process wrote (a
 * `backfill` command without --wait, `dead-letters retry`), so it can be slow: an idle daemon
 * then costs one small query every 5 s instead of ten a second.
 */
export const IDLE_POLL_MS = 5000;

/**
 * Pure: batches in flight for a request budget. One batch takes tens of ms (assemble, request,
 * settle); only a budget of more than ~20 requests a second leaves room for several at once.
 */
export function concurrencyFor(requestsPerMinute: number): number {
  return requestsPerMinute >= 1200 ? 4 : 1;
}

/** Top-up rounds per request at most (each claims and assembles up to one batch of keys). */
export const MAX_TOP_UPS = 10;

/**
 * Pure: how many more keys to claim for a request that carries `records` records so far. While
 * most claimed customers turn out unchanged (a reconcile after a mapping change), the request is
 * filled up to `batchSize` records instead of going out with the few that changed; a claim that
 * came back short means the queue is empty, so there is nothing to wait for.
 */
export function topUpSize(records: number, batchSize: number, lastAsked: number, lastClaimed: number, round: number): number {
  if (round >= MAX_TOP_UPS || lastClaimed < lastAsked || records >= batchSize) return 0;
  return batchSize - records;
}

export interface DeliveryStatus {
  keyRejected: boolean;
  /** Why delivery stopped by itself (key refused, key without permission, endpoint problem). */
  blocked: string | null;
  /** Since when claimed keys wait without a settled batch (ms since epoch); null when idle or moving. */
  waitingSince: number | null;
  /** When a batch last settled (ms since epoch). */
  lastProgressAt: number | null;
  lastError: string | null;
  /** A Postgres error only a person can fix (src/pg/sqlstate.ts), retried slowly until it is. */
  problem: Problem | null;
  delivered: number;
  skipped: number;
  deadLettered: number;
  batches: number;
}

export interface DeliveryLoop {
  /**
   * Runs until `signal` aborts; a request in flight is finished and settled first (drain).
   * `hard` aborts even that (the drain deadline): its keys stay pending and go again later.
   */
  run(signal: AbortSignal, hard?: AbortSignal): Promise<void>;
  /** One claim → send → settle pass; resolves with what it settled (0 keys when idle). */
  once(signal?: AbortSignal, hard?: AbortSignal): Promise<SettleCounts & { keys: number }>;
  /** Look at `pending` now (capture calls this after a flush). */
  wake(): void;
  status(): DeliveryStatus;
}
