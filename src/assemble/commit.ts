import type { Kysely } from 'kysely';
import type { StateTables } from '../state/tables.js';
import type { Commit } from './decide.js';

/**
 * Stores what an accepted send changes in the state store (see `Commit` in ./decide.ts): the
 * payload hash and identity in `sent`, the policies sent in `sent_policies`, and drops the
 * vanished ones. Pass a transaction so it commits together with the removal of the pending row.
 */
export async function applyCommit(db: Kysely<StateTables>, customerKey: string, commit: Commit): Promise<void> {
  const now = new Date();
  if (commit.hash !== null) {
    const identity = commit.identity === null ? null : JSON.stringify(commit.identity);
    const valued = commit.valued == null ? null : JSON.stringify(commit.valued);
    await db
      .insertInto('sent')
      .values({ customer_key: customerKey, payload_hash: commit.hash, identity, valued, sent_at: now })
      .onConflict((oc) => oc.column('customer_key').doUpdateSet({ payload_hash: commit.hash!, identity, valued, sent_at: now }))
      .execute();
  }
  if (commit.forgetPolicies.length > 0) {
    await db.deleteFrom('sent_policies').where('customer_key', '=', customerKey).where('policy_key', 'in', commit.forgetPolicies).execute();
  }
  if (commit.policies.length > 0) {
    await db
      .insertInto('sent_policies')
      .values(
        commit.policies.map((p) => ({
          policy_key: p.policyKey,
          customer_key: customerKey,
          identifiers: JSON.stringify(p.identifiers),
          status: p.status,
          valued: p.valued == null ? null : JSON.stringify(p.valued),
          sent_at: now,
        })),
      )
      .onConflict((oc) =>
        oc.column('policy_key').doUpdateSet((eb) => ({
          customer_key: eb.ref('excluded.customer_key'),
          identifiers: eb.ref('excluded.identifiers'),
          status: eb.ref('excluded.status'),
          valued: eb.ref('excluded.valued'),
          sent_at: eb.ref('excluded.sent_at'),
        })),
      )
      .execute();
  }
}
