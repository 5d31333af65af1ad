/**
 * Reading and releasing what the mass-cancellation rail holds (src/deliver/safety.ts), for
 * `status`, `/readyz` and `carecycle-sync approve`.
 */
import { approveAllHeld, countHeld } from '../queue/held.js';
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
  const row = await countHeld(state);
  const doc = row.customers > 0 ? (await getRuntime<{ reason?: string }>(state, SAFETY_DOC))?.value : undefined;
  return { customers: row.customers, policies: row.policies, since: row.since?.toISOString() ?? null, reason: doc?.reason ?? null };
}

/** Releases every held record: the delivery loop sends them next, without the rail. */
export async function approveHeld(state: StateDb): Promise<HeldSummary> {
  const before = await readHeld(state);
  await approveAllHeld(state);
  await patchRuntime(state, SAFETY_DOC, { reason: null, lastApprovedAt: new Date().toISOString(), lastApproved: before });
  return before;
}
