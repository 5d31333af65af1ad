/**
 * "Outcome unknown" (docs/state-tables.md, `sent`; docs/data.md): the one stored
 * `sent.payload_hash` of a customer whose last send has an unknown outcome, and the two
 * statements that write it. It equals no payload's hash, so the next pass sends the customer
 * whatever it holds.
 */
import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import type { Claimed } from './claim.js';
import { onConflictChange } from './conflict-rules.js';
import { leaseHeld, type Lease } from './lease.js';

export const UNKNOWN_OUTCOME_HASH = 'unknown-outcome';

/** The rows of the mark; `r`: the restore state is kept (src/queue/restore.ts). */
export interface UnknownOutcomeDoc {
  sent: Array<{ k: string; h: typeof UNKNOWN_OUTCOME_HASH; r: boolean; i: unknown; v: unknown }>;
  policies: Array<{ p: string; c: string; i: unknown; s: string | null; v: unknown }>;
}

const UNION = (old: string, add: string) =>
  `CASE WHEN ${old} IS NULL THEN NULL ELSE coalesce((SELECT jsonb_agg(DISTINCT u.e ORDER BY u.e) FROM (SELECT jsonb_array_elements_text(${old}) UNION SELECT jsonb_array_elements_text(coalesce(${add}, '[]'::jsonb))) AS u(e)), '[]'::jsonb) END`;

const MARK_SQL = `
WITH doc AS (SELECT $1::jsonb AS j),
sent_rows AS (
  INSERT INTO sent AS s (customer_key, payload_hash, restore, identity, valued, sent_at)
  SELECT t.k, t.h, t.r, t.i, t.v, now() FROM doc, jsonb_to_recordset(doc.j->'sent') AS t(k text, h text, r boolean, i jsonb, v jsonb)
   WHERE ${leaseHeld('$2', '$3')}
  ON CONFLICT (customer_key) DO UPDATE SET payload_hash = EXCLUDED.payload_hash, restore = EXCLUDED.restore,
    identity = coalesce(s.identity, EXCLUDED.identity), valued = ${UNION('s.valued', 'EXCLUDED.valued')}
)
INSERT INTO sent_policies AS sp (policy_key, customer_key, identifiers, status, valued, sent_at)
SELECT DISTINCT ON (t.p) t.p, t.c, t.i, t.s, t.v, now() FROM doc, jsonb_to_recordset(doc.j->'policies') AS t(p text, c text, i jsonb, s text, v jsonb)
 WHERE ${leaseHeld('$2', '$3')}
ON CONFLICT (policy_key) DO UPDATE SET customer_key = EXCLUDED.customer_key,
  status = CASE WHEN sp.status IS NOT DISTINCT FROM EXCLUDED.status THEN sp.status END,
  valued = ${UNION('sp.valued', 'EXCLUDED.valued')}`;

/**
 * Before a request goes out (src/deliver/in-doubt.ts says what and why): marks its customers,
 * and remembers its policies, while `lease` is the current one.
 */
export async function markUnknownOutcome(state: StateDb, doc: UnknownOutcomeDoc, lease: Lease): Promise<void> {
  if (doc.sent.length === 0) return;
  await state.pool.query(hotQuery(MARK_SQL, [JSON.stringify(doc), lease.slot, lease.generation], state.prepared));
}

/**
 * After the lease was lost with a batch in flight, or a settle was fenced: CareCycle may hold
 * this batch's payloads, possibly landed after the new holder's newer ones. Recording nothing is
 * not enough, because the holder's stored hash would then skip the customer as unchanged. So the
 * last-sent hash of these customers is forgotten and they are queued again: the holder sends
 * their current records once more. Both writes only ever cause a re-send, so an instance that
 * holds no lease may make them.
 */
export async function leaveForHolder(state: StateDb, claimed: readonly Claimed[]): Promise<void> {
  if (claimed.length === 0) return;
  await state.pool.query(
    `WITH forgotten AS (UPDATE sent SET payload_hash = $3, restore = false WHERE customer_key = ANY($1::text[]))
     INSERT INTO pending (customer_key, priority) SELECT k, p FROM unnest($1::text[], $2::smallint[]) AS u(k, p)
     ${onConflictChange()}`,
    [claimed.map((c) => c.key), claimed.map((c) => c.priority), UNKNOWN_OUTCOME_HASH],
  );
}
