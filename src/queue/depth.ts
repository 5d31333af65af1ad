/**
 * How much waits in `pending` (docs/state-tables.md, `pending`), for `status`, `/metrics`,
 * `backfill --wait` and the backfill progress.
 */
import type { StateDb } from '../state/db.js';
import { PRIORITY } from '../state/tables.js';

export interface PriorityDepth {
  priority: number;
  keys: number;
  /** Age of the oldest key, ms. */
  oldestAgeMs: number | null;
  /** Keys with a failed attempt recorded. */
  retrying: number;
}

/** Keys by priority (only priorities with keys). */
export async function depthByPriority(state: StateDb): Promise<PriorityDepth[]> {
  const r = await state.pool.query<{ priority: number; n: string; oldest_ms: string | null; retrying: string }>(
    `SELECT priority, count(*) AS n, (extract(epoch FROM now() - min(first_enqueued_at)) * 1000)::bigint AS oldest_ms,
            count(*) FILTER (WHERE attempts > 0) AS retrying
       FROM pending GROUP BY priority`,
  );
  return r.rows.map((x) => ({
    priority: Number(x.priority),
    keys: Number(x.n),
    oldestAgeMs: x.oldest_ms === null ? null : Number(x.oldest_ms),
    retrying: Number(x.retrying),
  }));
}

/** Backfill keys still waiting (a live change upgrades a key to live priority). */
export async function pendingBackfillKeys(state: StateDb): Promise<number> {
  const r = await state.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pending WHERE priority = ${PRIORITY.backfill}`);
  return Number(r.rows[0]!.n);
}

/**
 * The select-list items of the `/metrics` statement for the queue, on `pending` of the
 * schema `s` (quoted): `live`, `backfill` (counts) and `oldest_age` (seconds).
 */
export const depthMetricsColumns = (s: string): string => `(SELECT count(*) FROM ${s}.pending WHERE priority = ${PRIORITY.live}) AS live,
      (SELECT count(*) FROM ${s}.pending WHERE priority <> ${PRIORITY.live}) AS backfill,
      (SELECT extract(epoch FROM now() - min(first_enqueued_at))::float8 FROM ${s}.pending) AS oldest_age`;
