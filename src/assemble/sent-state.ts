import type { StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import type { PolicyIdentifiers, SentPolicy } from './records.js';

/** What the state store remembers of the last successful send of one customer. */
export interface SentState {
  /** Payload hash of the last send; null when only policies are remembered. */
  hash: string | null;
  /** The customer goes once more to restore auto-terminated policies (src/queue/restore.ts); absent: no. */
  restore?: boolean;
  identity: Record<string, unknown> | null;
  /** Customer fields last sent with a value; null: not known (older state); undefined: never sent. */
  valued?: readonly string[] | null;
  policies: SentPolicy[];
}

/** Reads the remembered sends of a batch of customers (one query, whatever the batch size). */
export interface SentStateReader {
  read(keys: readonly string[]): Promise<Map<string, SentState>>;
}

/**
 * Each key's `sent` row and its sent_policies (ordered by policy key) in one round trip; keys
 * with neither are left out.
 */
const READ_SQL = `
SELECT k AS customer_key, s.payload_hash, coalesce(s.restore, false) AS restore, s.identity, s.valued,
       (SELECT json_agg(json_build_array(sp.policy_key, sp.identifiers, sp.status, sp.valued) ORDER BY sp.policy_key)
          FROM sent_policies sp WHERE sp.customer_key = k) AS policies
  FROM unnest($1::text[]) AS k LEFT JOIN sent s ON s.customer_key = k`;

interface ReadRow {
  customer_key: string;
  payload_hash: string | null;
  restore: boolean;
  identity: Record<string, unknown> | null;
  valued: string[] | null;
  policies: Array<[string, PolicyIdentifiers, string | null, string[] | null]> | null;
}

export function sentStateReader(state: StateDb): SentStateReader {
  return {
    async read(keys) {
      const out = new Map<string, SentState>();
      if (keys.length === 0) return out;
      const { rows } = await state.pool.query<ReadRow>(hotQuery(READ_SQL, [keys], state.prepared));
      for (const r of rows) {
        if (r.payload_hash === null && r.policies === null) continue;
        const state: SentState = {
          hash: r.payload_hash,
          restore: r.restore,
          identity: r.identity ?? null,
          policies: (r.policies ?? []).map(([policyKey, identifiers, status, valued]) => ({
            policyKey,
            identifiers,
            status,
            valued: valued ?? null,
          })),
        };
        // No sent row (only policies remembered): the customer fields were never sent.
        if (r.payload_hash !== null) state.valued = r.valued ?? null;
        out.set(r.customer_key, state);
      }
      return out;
    },
  };
}

/** For `preview` before `setup`: nothing has been sent yet. */
export const nothingSent: SentStateReader = { read: async () => new Map() };
