import { SCHEMA_CHANGED } from './isolate.js';
import { scrub } from '../log/secrets.js';
import type { StateDb } from '../state/db.js';
import { retryDeadLetterKeys } from '../queue/requeue.js';

/**
 * `dead-letters list | retry | discard`: records that could not be delivered as they were, with
 * the reason. Retry moves keys back to `pending` at live priority and deletes their dead letters
 * in ONE statement, so a crash can neither lose a key nor leave it in both places. The record is
 * re-assembled from the current row, so retrying after fixing the data in the CRM is the fix.
 */

export interface DeadLetter {
  key: string;
  reason: string;
  fieldPath: string | null;
  httpStatus: number | null;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
}

/** Keys to act on, or every dead letter. */
export type Selection = { all: true } | { keys: readonly string[] };

export interface ActionResult {
  /** Keys acted on, sorted. */
  done: string[];
  /** Requested keys that have no dead letter, in the order given. */
  unknown: string[];
}

export async function listDeadLetters(state: StateDb, opts: { limit?: number } = {}): Promise<{ total: number; items: DeadLetter[] }> {
  const c = await state.pool.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
  const r = await state.pool.query<{
    customer_key: string;
    reason: string;
    field_path: string | null;
    http_status: number | null;
    attempts: number;
    first_failed_at: Date;
    last_failed_at: Date;
  }>(
    `SELECT customer_key, reason, field_path, http_status, attempts, first_failed_at, last_failed_at
       FROM dead_letters ORDER BY last_failed_at DESC, customer_key LIMIT $1`,
    [opts.limit ?? 1000],
  );
  return {
    total: Number(c.rows[0]!.n),
    items: r.rows.map((x) => ({
      key: x.customer_key,
      reason: scrub(x.reason),
      fieldPath: x.field_path,
      httpStatus: x.http_status,
      attempts: x.attempts,
      firstFailedAt: x.first_failed_at.toISOString(),
      lastFailedAt: x.last_failed_at.toISOString(),
    })),
  };
}

function whereOf(sel: Selection): { clause: string; params: unknown[] } {
  return 'all' in sel ? { clause: 'true', params: [] } : { clause: 'customer_key = ANY($1::text[])', params: [[...sel.keys]] };
}

function result(sel: Selection, done: string[]): ActionResult {
  const hit = new Set(done);
  const unknown = 'all' in sel ? [] : [...new Set(sel.keys)].filter((k) => !hit.has(k));
  return { done: done.sort(), unknown };
}

/**
 * Re-queues the selected keys at live priority (a fresh start: attempts and errors cleared,
 * version bumped so an in-flight delivery does not drop the re-queued row) and deletes their
 * dead letters.
 */
export async function retryDeadLetters(state: StateDb, sel: Selection): Promise<ActionResult> {
  const { clause, params } = whereOf(sel);
  return result(sel, await retryDeadLetterKeys(state, clause, params));
}

export async function discardDeadLetters(state: StateDb, sel: Selection): Promise<ActionResult> {
  const { clause, params } = whereOf(sel);
  const r = await state.pool.query<{ customer_key: string }>(`DELETE FROM dead_letters WHERE ${clause} RETURNING customer_key`, params);
  return result(
    sel,
    r.rows.map((x) => x.customer_key),
  );
}

/** Dead letters held back by a schema change (src/deliver/isolate.ts), queued again; returns how many. */
export async function requeueSchemaDeadLetters(state: StateDb): Promise<number> {
  const r = await state.pool.query<{ customer_key: string }>(`SELECT customer_key FROM dead_letters WHERE starts_with(reason, $1)`, [
    SCHEMA_CHANGED,
  ]);
  if (r.rows.length === 0) return 0;
  await retryDeadLetters(state, { keys: r.rows.map((x) => x.customer_key) });
  return r.rows.length;
}
