/**
 * A mapping change reaches CareCycle by itself: when `run` starts with a mapping whose
 * fingerprint differs from the stored one, it stores the new one and, in the same state
 * transaction, requests a reconcile through the initial-backfill request (./initial.ts), so a
 * kill in between can neither lose the reconcile nor run it twice. The backfill re-assembles
 * every customer at backfill priority and the hash skip sends only the records that differ.
 */
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import type { MappingPlan } from '../assemble/index.js';
import type { Logger } from '../log/logger.js';
import { inTransaction, type StateDb } from '../state/db.js';
import { requeueEverySent } from '../queue/requeue.js';
import { decideMappingChange, fingerprintOf, mappingParts, type MappingDecision, type MappingParts } from './fingerprint.js';
import { INITIAL_BACKFILL_DOC } from './runs.js';

/** The runtime document holding the fingerprint of the mapping last started with. */
export const MAPPING_DOC = 'mapping';

export interface MappingDoc {
  fingerprint: string;
  parts: MappingParts;
  /** The resolved plan itself, so `backfill --dry-run` can assemble with the previous mapping. */
  plan: MappingPlan;
  storedAt: string;
}

export async function readMappingDoc(q: pg.Pool | pg.ClientBase): Promise<MappingDoc | undefined> {
  const r = await q.query<{ value: MappingDoc }>('SELECT value FROM runtime WHERE name = $1', [MAPPING_DOC]);
  return r.rows[0]?.value;
}

const UPSERT_DOC = `INSERT INTO runtime (name, value) VALUES ($1, $2::jsonb)
  ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;

/** Merges: the initial-backfill document keeps the slot it was written for. */
const MERGE_DOC = `INSERT INTO runtime (name, value) VALUES ($1, $2::jsonb)
  ON CONFLICT (name) DO UPDATE SET value = runtime.value || EXCLUDED.value, updated_at = now()`;

/**
 * Compares the mapping `run` starts with against the stored fingerprint and acts on it (see the
 * file comment). Returns what it decided; the caller then runs ensureInitialBackfill.
 */
export async function checkMappingChange(state: StateDb, plan: MappingPlan, config: Config, log?: Logger): Promise<MappingDecision> {
  const parts = mappingParts(plan, config.sync);
  const enabled = config.sync.reconcileOnMappingChange !== false;
  return inTransaction(state.pool, async (client) => {
    // Serialises two daemons starting at once: only one of them requests the reconcile.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`carecycle_sync.mapping.${state.schema}`]);
    const stored = await readMappingDoc(client);
    const decision = decideMappingChange(stored, parts, enabled);
    if (!decision.store) return decision;
    const doc: MappingDoc = { fingerprint: fingerprintOf(parts), parts, plan, storedAt: new Date().toISOString() };
    await client.query(UPSERT_DOC, [MAPPING_DOC, JSON.stringify(doc)]);
    if (decision.firstRun) {
      log?.info({ fingerprint: doc.fingerprint }, 'mapping fingerprint stored (first run with it)');
    } else if (decision.reconcile) {
      const request = { status: 'requested', createdAt: doc.storedAt, reason: 'mapping changed', changed: decision.changed };
      await client.query(MERGE_DOC, [INITIAL_BACKFILL_DOC, JSON.stringify(request)]);
      // Every customer ever sent is queued too: one that left `customers.where` (a changed
      // filter) is not in the backfill's keyset, and must still get sync.onCustomerDelete.
      await requeueEverySent(client, 'reconcile');
      log?.warn(
        { changed: decision.changed },
        `the mapping changed (${decision.changed.join(', ')}): reconciling every customer at backfill priority; only records that differ are sent`,
      );
    } else {
      log?.warn(
        { changed: decision.changed },
        `the mapping changed (${decision.changed.join(', ')}) but sync.reconcileOnMappingChange is off: customers get the new mapping only when they change (or run \`carecycle-sync backfill\`)`,
      );
    }
    return decision;
  });
}
