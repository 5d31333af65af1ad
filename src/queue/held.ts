/**
 * The mass-cancellation rail's marks on `pending` (docs/state-tables.md, `pending`: `held_at`,
 * `held_policies`, `approved`): hold, release, approve, count. The rail itself is
 * src/deliver/safety.ts.
 */
import type { StateDb } from '../state/db.js';

/** Keeps `held` (key → policies it would cancel) pending, rechecked after `recheckMs`. */
export async function holdKeys(state: StateDb, held: ReadonlyMap<string, number>, recheckMs: number): Promise<void> {
  const keys = [...held.keys()];
  await state.pool.query(
    `UPDATE pending p SET held_at = coalesce(p.held_at, now()), held_policies = h.n, next_attempt_at = now() + $3::int * interval '1 millisecond'
       FROM unnest($1::text[], $2::int[]) AS h(k, n) WHERE p.customer_key = h.k`,
    [keys, keys.map((k) => held.get(k)!), recheckMs],
  );
}

/** Clears the hold of `keys` (they went, or no longer cancel anything). */
export async function releaseHeld(state: StateDb, keys: readonly string[]): Promise<void> {
  await state.pool.query('UPDATE pending SET held_at = NULL, held_policies = NULL WHERE customer_key = ANY($1::text[])', [keys]);
}

export interface HeldCount {
  customers: number;
  policies: number;
  /** When the oldest hold began. */
  since: Date | null;
}

/** What the rail holds now. */
export async function countHeld(state: StateDb): Promise<HeldCount> {
  const r = await state.pool.query<HeldCount>(
    'SELECT count(*)::int AS customers, coalesce(sum(held_policies), 0)::int AS policies, min(held_at) AS since FROM pending WHERE held_at IS NOT NULL',
  );
  return r.rows[0]!;
}

/** `carecycle-sync approve`: every held record goes next, without the rail. */
export async function approveAllHeld(state: StateDb): Promise<void> {
  await state.pool.query(
    `UPDATE pending SET approved = true, held_at = NULL, held_policies = NULL, next_attempt_at = now() WHERE held_at IS NOT NULL`,
  );
}
