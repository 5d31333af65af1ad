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
import { markUnknownOutcome, UNKNOWN_OUTCOME_HASH, type UnknownOutcomeDoc } from '../queue/unknown-outcome.js';
import type { StateDb } from '../state/db.js';
import type { Lease } from '../queue/lease.js';

/** Pure: the rows of the mark (src/queue/unknown-outcome.ts) for the results that have records to send. */
export function inDoubtDoc(results: readonly AssembleResult[]): UnknownOutcomeDoc {
  const sent: UnknownOutcomeDoc['sent'] = [];
  const policies: UnknownOutcomeDoc['policies'] = [];
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
  await markUnknownOutcome(state, inDoubtDoc(results), lease);
}
