import type { StateDb } from '../state/db.js';
import { settledSince } from '../queue/sent-reads.js';
import { readDelivery } from '../state/runtime.js';
import { pendingBackfillKeys } from '../queue/depth.js';
import { getRun, type BackfillRun } from './runs.js';

/**
 * `backfill --wait`: waits until the run has enqueued every key and no backfill key is left in
 * `pending`, reading only the state tables, so it works while a `run` daemon (this process or
 * another) does the delivering. Keys leave `pending` when delivered, skipped as unchanged or
 * dead-lettered; a failing key stays pending with attempts and is counted as pending.
 */

export interface DrainSnapshot {
  run: BackfillRun;
  pending: number;
  /** Keys of the run that left the queue. */
  settled: number;
}

export interface DrainSummary {
  run: BackfillRun;
  /** Customers whose record was sent since the run started (`sent.sent_at`; live changes included). */
  delivered: number;
  /** Keys that left the queue without a send or a dead letter: the record equalled the last one sent. */
  skippedUnchanged: number;
  /** Dead letters written since the run started. */
  deadLettered: number;
  elapsedMs: number;
}

export interface WaitOptions {
  signal?: AbortSignal;
  pollMs?: number;
  onPoll?: (s: DrainSnapshot) => void;
  /** Called once when nothing left the queue for `stallMs` and no daemon published delivery state meanwhile. */
  onStall?: (info: { sinceMs: number; deliveryUpdatedAt: Date | null }) => void;
  stallMs?: number;
}

export async function snapshot(state: StateDb, runId: string): Promise<DrainSnapshot> {
  const run = await getRun(state, runId);
  if (!run) throw new Error(`backfill run ${runId} not found in the state table`);
  const pending = await pendingBackfillKeys(state);
  return { run, pending, settled: Math.max(0, run.enqueued - pending) };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Resolves with the summary once drained; with null when `signal` aborts first. */
export async function waitForDrain(state: StateDb, runId: string, opts: WaitOptions = {}): Promise<DrainSummary | null> {
  const started = Date.now();
  const stallMs = opts.stallMs ?? 120_000;
  let lastSettled = -1;
  let lastChangeAt = Date.now();
  let stallReported = false;
  for (;;) {
    if (opts.signal?.aborted) return null;
    const s = await snapshot(state, runId);
    opts.onPoll?.(s);
    if (s.run.finishedAt !== null && s.pending === 0) return summarize(state, s.run, Date.now() - started);
    if (s.settled !== lastSettled) {
      lastSettled = s.settled;
      lastChangeAt = Date.now();
    } else if (!stallReported && Date.now() - lastChangeAt >= stallMs) {
      const d = await readDelivery(state);
      if (!d.updatedAt || d.updatedAt.getTime() < lastChangeAt) {
        stallReported = true;
        opts.onStall?.({ sinceMs: Date.now() - lastChangeAt, deliveryUpdatedAt: d.updatedAt });
      }
    }
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}

export async function summarize(state: StateDb, run: BackfillRun, elapsedMs: number): Promise<DrainSummary> {
  const { delivered, deadLettered } = await settledSince(state, run.startedAt);
  return { run, delivered, deadLettered, skippedUnchanged: Math.max(0, run.enqueued - delivered - deadLettered), elapsedMs };
}
