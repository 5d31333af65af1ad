import type { StateDb } from '../state/db.js';
import { readSentRows } from '../queue/sent-reads.js';
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

export function sentStateReader(state: StateDb): SentStateReader {
  return {
    async read(keys) {
      const out = new Map<string, SentState>();
      if (keys.length === 0) return out;
      const rows = await readSentRows(state, keys);
      for (const r of rows) {
        if (r.payload_hash === null && r.policies === null) continue;
        const state: SentState = {
          hash: r.payload_hash,
          restore: r.restore,
          identity: r.identity ?? null,
          policies: (r.policies ?? []).map(([policyKey, identifiers, status, valued]) => ({
            policyKey,
            identifiers: identifiers as PolicyIdentifiers,
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
