/**
 * Reading and releasing what the mass-cancellation rail holds (src/deliver/safety.ts), for
 * `status`, `/readyz` and `carecycle-sync approve`.
 */
import type { StateDb } from '../state/db.js';
import { getRuntime, patchRuntime } from '../state/runtime.js';
import { SAFETY_DOC } from './safety.js';

export interface HeldSummary {
  /** Customers whose records are held. */
  customers: number;
  /** Policies whose cancellation (or termination) is held. */
  policies: number;
  since: string | null;
  reason: string | null;
}

export async function readHeld(state: StateDb): Promise<HeldSummary> {
  const r = await state.pool.query<{ customers: number; policies: number; since: Date | null }>(
    'SELECT count(*)::int AS customers, coalesce(sum(held_policies), 0)::int AS policies, min(held_at) AS since FROM pending WHERE held_at IS NOT NULL',
  );
  const row = r.rows[0]!;
  const doc = row.customers > 0 ? (await getRuntime<{ reason?: string }>(state, SAFETY_DOC))?.value : undefined;
  return { customers: row.customers, policies: row.policies, since: row.since?.toISOString() ?? null, reason: doc?.reason ?? null };
}

/** Releases every held record: the delivery loop sends them next, without the rail. */
export async function approveHeld(state: StateDb): Promise<HeldSummary> {
  const before = await readHeld(state);
  await state.pool.query(
    `UPDATE pending SET approved = true, held_at = NULL, held_policies = NULL, next_attempt_at = now() WHERE held_at IS NOT NULL`,
  );
  await patchRuntime(state, SAFETY_DOC, { reason: null, lastApprovedAt: new Date().toISOString(), lastApproved: before });
  return before;
}
