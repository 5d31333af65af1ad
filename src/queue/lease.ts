import { hostname } from 'node:os';
import type { StateDb } from '../state/db.js';

/**
 * The delivery lease (sql/migrations/003_lease.sql): a fencing token for the instance that holds
 * the slot lock. `takeLease` runs right after the advisory lock is acquired and bumps the
 * generation; claims and settles carry it (see `LEASE_HELD`), so once a newer holder exists an
 * older one can neither claim nor record anything, even if it has not noticed its loss yet.
 */
export interface Lease {
  readonly slot: string;
  /** bigint as text. */
  readonly generation: string;
  /** Aborts when the slot lock behind this lease is lost or released. */
  readonly lost: AbortSignal;
}

/** Where the delivery loop gets the current lease; null while this instance holds none. */
export type LeaseSource = () => Lease | null;

/** SQL predicate: the lease given as ($slot, $generation) is still the current one. */
export const leaseHeld = (slotParam: string, generationParam: string): string =>
  `EXISTS (SELECT 1 FROM lease WHERE slot = ${slotParam} AND generation = ${generationParam}::bigint)`;

/** Bumps the slot's generation; returns the new one. Call only while holding the slot lock. */
export async function takeLease(state: StateDb, slot: string, holder = `${hostname()}:${process.pid}`): Promise<string> {
  const r = await state.pool.query<{ generation: string }>(
    `INSERT INTO lease (slot, holder) VALUES ($1, $2)
     ON CONFLICT (slot) DO UPDATE SET generation = lease.generation + 1, holder = EXCLUDED.holder, acquired_at = now()
     RETURNING generation::text AS generation`,
    [slot, holder],
  );
  return r.rows[0]!.generation;
}

/** A lease and the means to end it (the holder aborts `lost` when its lock goes). */
export interface HeldLease {
  lease: Lease;
  end(reason: Error): void;
}

/** Takes the lease outright (the caller holds the slot lock, or is a benchmark or test alone on the slot). */
export async function takeHeldLease(state: StateDb, slot: string): Promise<HeldLease> {
  return heldLease(slot, await takeLease(state, slot));
}

export function heldLease(slot: string, generation: string): HeldLease {
  const ac = new AbortController();
  return { lease: { slot, generation, lost: ac.signal }, end: (reason) => ac.abort(reason) };
}
