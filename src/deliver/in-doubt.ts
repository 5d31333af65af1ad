/**
 * Before a request goes out, its customers' remembered state is marked "outcome unknown": once
 * the request is written, CareCycle may have applied it even if no answer ever comes back (the
 * connection drops, the drain deadline or a crash cuts it short, a split customer has one part
 * accepted and another refused). Without the mark the stored hash would still be the last
 * confirmed send, and a later change *back* to that state would be skipped as unchanged while
 * CareCycle keeps what the lost request carried.
 *
 * The mark, in one statement, for every customer with records in the batch:
 * - `sent.payload_hash` becomes UNKNOWN_OUTCOME_HASH, which no payload hashes to: the next pass
 *   sends again; `sent.restore` stays set when the send restores auto-terminated policies;
 * - `sent.valued` becomes the union of what was last confirmed and what this request carries,
 *   so a field the lost request may have set is cleared when the CRM no longer has it;
 * - each policy of the request that is new, or changed since its last confirmed send, is
 *   remembered. A new one gets the status being sent: if the process dies or the state database
 *   goes away between CareCycle applying the request and the settle, a later hard delete (which
 *   names only the policy key) still resolves to its customer, and the policy is sent with
 *   sync.onPolicyDelete (CareCycle gets it once, already cancelled, if the request never
 *   landed). One whose status changes gets NULL: CareCycle holds either status, and NULL never
 *   equals the delete status. Its field list becomes the same union.
 * A confirmed outcome (settle) overwrites all of it. Unknown-before (`valued` NULL) stays unknown.
 */
import type { AssembleResult } from '../assemble/index.js';
import { UNKNOWN_OUTCOME_HASH } from '../queue/unknown-outcome.js';
import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import { leaseHeld, type Lease } from '../queue/lease.js';

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

/** Pure: the JSON document of MARK_SQL for the results that have records to send. */
export function inDoubtDoc(results: readonly AssembleResult[]) {
  const sent: Array<{ k: string; h: string; r: boolean; i: unknown; v: unknown }> = [];
  const policies: Array<{ p: string; c: string; i: unknown; s: string | null; v: unknown }> = [];
  for (const r of results) {
    if (r.verdict === 'invalid' || r.records.length === 0 || !r.commit) continue;
    sent.push({ k: r.key, h: UNKNOWN_OUTCOME_HASH, r: r.restoring === true, i: r.commit.identity, v: r.commit.valued ?? null });
    for (const p of r.inDoubtPolicies ?? r.commit.policies)
      policies.push({ p: p.policyKey, c: r.key, i: p.identifiers, s: p.status, v: p.valued ?? null });
  }
  return { sent, policies };
}

/**
 * Marks the customers of a batch about to be sent as "outcome unknown" (see the header); like
 * every write of the delivery loop, only while `lease` is the current one.
 */
export async function markInDoubt(state: StateDb, results: readonly AssembleResult[], lease: Lease): Promise<void> {
  const doc = inDoubtDoc(results);
  if (doc.sent.length === 0) return;
  await state.pool.query(hotQuery(MARK_SQL, [JSON.stringify(doc), lease.slot, lease.generation], state.prepared));
}
