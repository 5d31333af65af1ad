import type { StateDb } from '../state/db.js';
import type { PolicyIdentifiers, SentPolicy } from './records.js';

/** What the state store remembers of the last successful send of one customer. */
export interface SentState {
  /** Payload hash of the last send; null when only policies are remembered. */
  hash: string | null;
  identity: Record<string, unknown> | null;
  policies: SentPolicy[];
}

/** Reads the remembered sends of a batch of customers (two queries, whatever the batch size). */
export interface SentStateReader {
  read(keys: readonly string[]): Promise<Map<string, SentState>>;
}

export function sentStateReader(state: StateDb): SentStateReader {
  return {
    async read(keys) {
      const out = new Map<string, SentState>();
      if (keys.length === 0) return out;
      const entry = (k: string) => {
        let e = out.get(k);
        if (!e) out.set(k, (e = { hash: null, identity: null, policies: [] }));
        return e;
      };
      const sent = await state.db.selectFrom('sent').select(['customer_key', 'payload_hash', 'identity']).where('customer_key', 'in', keys).execute();
      for (const r of sent) Object.assign(entry(r.customer_key), { hash: r.payload_hash, identity: r.identity ?? null });
      const policies = await state.db
        .selectFrom('sent_policies')
        .select(['policy_key', 'customer_key', 'identifiers', 'status'])
        .where('customer_key', 'in', keys)
        .orderBy('policy_key')
        .execute();
      for (const p of policies) {
        entry(p.customer_key).policies.push({ policyKey: p.policy_key, identifiers: p.identifiers as PolicyIdentifiers, status: p.status });
      }
      return out;
    },
  };
}

/** For `preview` before `setup`: nothing has been sent yet. */
export const nothingSent: SentStateReader = { read: async () => new Map() };
