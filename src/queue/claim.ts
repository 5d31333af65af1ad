/**
 * The claim: the delivery loop's next keys from `pending` (docs/state-tables.md, `pending`).
 * Run for every batch, so a named prepared statement where the connection allows it
 * (src/state/prepared.ts).
 */
import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import { leaseHeld, type Lease } from './lease.js';

export interface Claimed {
  key: string;
  version: string;
  priority: number;
  /** The state database's clock when the batch was claimed (before its CRM rows were read), epoch seconds. */
  claimedAt: string;
  /** Held by the mass-cancellation rail at the last pass (src/deliver/safety.ts). */
  held?: boolean;
  /** Released by `carecycle-sync approve`: the rail lets it go. */
  approved?: boolean;
}

const CLAIM_SQL = `
SELECT customer_key, version::text AS version, priority, extract(epoch FROM now())::text AS claimed_at,
       held_at IS NOT NULL AS held, approved
  FROM pending
 WHERE next_attempt_at <= now() AND customer_key <> ALL($2::text[]) AND ${leaseHeld('$3', '$4')}
 ORDER BY priority, first_enqueued_at
 LIMIT $1`;

interface ClaimRow {
  customer_key: string;
  version: string;
  priority: number;
  claimed_at: string;
  held: boolean;
  approved: boolean;
}

/**
 * Up to `limit` keys, live changes before backfill, oldest first, except those in `busy`; none
 * when `lease` is no longer the current one (a newer holder of the slot lock exists).
 */
export async function claimPending(state: StateDb, limit: number, busy: readonly string[], lease: Lease): Promise<Claimed[]> {
  const r = await state.pool.query<ClaimRow>(hotQuery(CLAIM_SQL, [limit, busy, lease.slot, lease.generation], state.prepared));
  return r.rows.map((row) => ({
    key: row.customer_key,
    version: row.version,
    priority: row.priority,
    claimedAt: row.claimed_at,
    held: row.held,
    approved: row.approved,
  }));
}
