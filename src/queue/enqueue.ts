import type pg from 'pg';
import { inTransaction, type StateDb } from '../state/db.js';
import { onConflictChange } from './conflict-rules.js';

/**
 * Writing customer keys into `pending` (docs/architecture.md, "Durability order"). One statement
 * per batch upserts the keys: a new key is inserted; a queued key gets its version bumped (so an
 * in-flight delivery does not delete it), priority = least(old, new) (a live change overtakes a
 * backfill entry), and last_enqueued_at = now(). When a checkpoint is given it is written in the
 * SAME transaction: the LSN becomes durable exactly when its keys do, and is confirmed to Postgres
 * only after.
 */

export interface Checkpoint {
  slot: string;
  /** pg_lsn text, e.g. `0/16B3748`. */
  lsn: string;
}

/** Keys that are found only in the state database, resolved inside the flush transaction. */
export interface StateResolved {
  /**
   * Policy keys whose change carried no customer key (a delete, or an update without the old
   * image): the customer remembered for each in sent_policies is enqueued, if there is one.
   */
  policyKeys?: readonly string[];
  /**
   * Of those, the deleted ones. One that sent_policies does not know yet is kept in
   * unresolved_policy_changes: the first send carrying it may be in flight, and its settle, or a
   * later flush, resolves it. (An update names its new customer itself; a policy moved while its
   * first send was in flight is left under the old customer in CareCycle, as every move is.)
   */
  deletedPolicyKeys?: readonly string[];
  /** Customers and policies tables truncated: every customer ever sent is enqueued. */
  allSentCustomers?: boolean;
  /** Policies table truncated: every customer with a sent policy is enqueued. */
  allSentPolicyCustomers?: boolean;
  /**
   * Resolve unresolved policy changes whose policy was recorded since (a settle that raced the
   * flush that kept them). Capture asks for it about once a second: the table is nearly always
   * empty, but the statement would still cost every flush a join.
   */
  sweepUnresolved?: boolean;
}

export interface CaptureBatch extends StateResolved {
  keys: readonly string[];
  priority: number;
  checkpoint?: Checkpoint;
}

/** Upserts `keys` with `priority` (and the checkpoint, if given) in one transaction; returns rows touched. */
export async function enqueueKeys(state: StateDb, keys: readonly string[], priority: number, checkpoint?: Checkpoint): Promise<number> {
  return writeBatch(state, { keys, priority, checkpoint });
}

/** The capture flush: keys, state-resolved keys and checkpoint in one state transaction. */
export async function writeBatch(state: StateDb, batch: CaptureBatch): Promise<number> {
  return inTransaction(state.pool, async (client) => {
    const n = await upsertKeys(client, batch);
    if (batch.deletedPolicyKeys && batch.deletedPolicyKeys.length > 0) await keepUnresolved(client, batch.deletedPolicyKeys);
    if (batch.checkpoint) await saveCheckpoint(client, batch.checkpoint);
    return n;
  });
}

async function upsertKeys(client: pg.ClientBase, b: CaptureBatch): Promise<number> {
  const sources = ['SELECT unnest($1::text[])'];
  if (b.sweepUnresolved) sources.push('SELECT customer_key FROM swept');
  const params: unknown[] = [b.keys, b.priority];
  if (b.policyKeys && b.policyKeys.length > 0) {
    params.push(b.policyKeys);
    sources.push(`SELECT customer_key FROM sent_policies WHERE policy_key = ANY($${params.length}::text[])`);
  }
  if (b.allSentCustomers) sources.push('SELECT customer_key FROM sent');
  if (b.allSentPolicyCustomers) sources.push('SELECT customer_key FROM sent_policies');
  if (b.keys.length === 0 && sources.length === 1) return 0;
  // ON CONFLICT may not touch one row twice in a statement: UNION removes duplicates across
  // sources, DISTINCT within the keys (free when the caller passes distinct keys, as capture does).
  const from = sources.length === 1 ? 'SELECT DISTINCT unnest($1::text[])' : sources.join(' UNION ');
  const swept = b.sweepUnresolved
    ? 'WITH swept AS (DELETE FROM unresolved_policy_changes u USING sent_policies s WHERE s.policy_key = u.policy_key RETURNING s.customer_key) '
    : '';
  const r = await client.query(
    `${swept}INSERT INTO pending (customer_key, priority)
     SELECT k, $2::smallint FROM (${from}) AS s(k) WHERE k IS NOT NULL
  ${onConflictChange()}`,
    params,
  );
  return r.rowCount ?? 0;
}

/** Policy keys sent_policies does not know: kept until a settle or a later flush resolves them. */
async function keepUnresolved(client: pg.ClientBase, policyKeys: readonly string[]): Promise<void> {
  await client.query(
    `INSERT INTO unresolved_policy_changes (policy_key)
     SELECT DISTINCT p FROM unnest($1::text[]) AS p WHERE NOT EXISTS (SELECT 1 FROM sent_policies s WHERE s.policy_key = p)
     ON CONFLICT (policy_key) DO UPDATE SET recorded_at = now()`,
    [policyKeys],
  );
}

async function saveCheckpoint(client: pg.ClientBase, cp: Checkpoint): Promise<void> {
  // GREATEST: a checkpoint never moves backwards, whatever order two writers commit in.
  await client.query(
    `INSERT INTO checkpoint (slot, lsn) VALUES ($1, $2::pg_lsn)
     ON CONFLICT (slot) DO UPDATE SET lsn = GREATEST(checkpoint.lsn, EXCLUDED.lsn), updated_at = now()`,
    [cp.slot, cp.lsn],
  );
}

/** The persisted checkpoint of `slot`, or null when capture never flushed on it. */
export async function readCheckpoint(state: StateDb, slot: string): Promise<string | null> {
  const r = await state.pool.query<{ lsn: string }>('SELECT lsn::text AS lsn FROM checkpoint WHERE slot = $1', [slot]);
  return r.rows[0]?.lsn ?? null;
}
