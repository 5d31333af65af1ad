/**
 * Reads of what was last sent (docs/state-tables.md, `sent`, `sent_policies`), for assembly,
 * the mass-cancellation rail and `backfill --wait`.
 */
import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';

/**
 * Each key's `sent` row and its sent_policies (ordered by policy key) in one round trip; keys
 * with neither are left out.
 */
const READ_SQL = `
SELECT k AS customer_key, s.payload_hash, coalesce(s.restore, false) AS restore, s.identity, s.valued,
       (SELECT json_agg(json_build_array(sp.policy_key, sp.identifiers, sp.status, sp.valued) ORDER BY sp.policy_key)
          FROM sent_policies sp WHERE sp.customer_key = k) AS policies
  FROM unnest($1::text[]) AS k LEFT JOIN sent s ON s.customer_key = k`;

/** One key's remembered send; `policies`: [policy_key, identifiers, status, valued]. */
export interface SentRow {
  customer_key: string;
  payload_hash: string | null;
  restore: boolean;
  identity: Record<string, unknown> | null;
  valued: string[] | null;
  policies: Array<[string, Record<string, string>, string | null, string[] | null]> | null;
}

/** The rows of `keys` (run for every batch: a prepared statement where allowed). */
export async function readSentRows(state: StateDb, keys: readonly string[]): Promise<SentRow[]> {
  return (await state.pool.query<SentRow>(hotQuery(READ_SQL, [keys], state.prepared))).rows;
}

/** Sent policies whose last status is none of `cancelling`: the rail's "active policies". */
export async function countActivePolicies(state: StateDb, cancelling: readonly string[]): Promise<number> {
  const r = await state.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sent_policies WHERE status IS NULL OR status <> ALL($1::text[])`,
    [cancelling],
  );
  return r.rows[0]!.n;
}

/** The status last sent of each of `policyKeys` that was sent. */
export async function lastSentStatuses(state: StateDb, policyKeys: readonly string[]): Promise<Map<string, string | null>> {
  const r = await state.pool.query<{ policy_key: string; status: string | null }>(
    'SELECT policy_key, status FROM sent_policies WHERE policy_key = ANY($1::text[])',
    [policyKeys],
  );
  return new Map(r.rows.map((x) => [x.policy_key, x.status]));
}

/** Customers sent, and dead letters written, since `since`. */
export async function settledSince(state: StateDb, since: Date): Promise<{ delivered: number; deadLettered: number }> {
  const r = await state.pool.query<{ delivered: string; dead: string }>(
    `SELECT (SELECT count(*) FROM sent WHERE sent_at >= $1) AS delivered,
            (SELECT count(*) FROM dead_letters WHERE last_failed_at >= $1) AS dead`,
    [since],
  );
  return { delivered: Number(r.rows[0]!.delivered), deadLettered: Number(r.rows[0]!.dead) };
}
