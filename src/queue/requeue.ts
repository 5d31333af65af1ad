/**
 * Statements that queue keys again from other state tables (docs/state-tables.md, `pending`):
 * dead letters given another try, and every customer ever sent (a reconcile).
 */
import type pg from 'pg';
import type { StateDb } from '../state/db.js';
import { PRIORITY } from '../state/tables.js';
import { ON_CONFLICT_BACKFILL, onConflictChange } from './conflict-rules.js';

/**
 * Deletes the dead letters `where` selects ($1 when it takes a parameter) and queues their keys
 * at live priority with a fresh start (attempts and errors cleared, version bumped so an
 * in-flight delivery does not drop the re-queued row). Returns the keys.
 */
export async function retryDeadLetterKeys(state: StateDb, where: string, params: unknown[]): Promise<string[]> {
  const r = await state.pool.query<{ customer_key: string }>(
    `WITH gone AS (DELETE FROM dead_letters WHERE ${where} RETURNING customer_key)
     INSERT INTO pending AS pending (customer_key, priority)
     SELECT customer_key, ${PRIORITY.live} FROM gone
     ${onConflictChange(', attempts = 0, next_attempt_at = now(), last_error = NULL')}
     RETURNING customer_key`,
    params,
  );
  return r.rows.map((x) => x.customer_key);
}

/**
 * Queues every customer ever sent (in `sent` or `sent_policies`) at backfill priority:
 * `change` for a new slot, whose stream missed what happened meanwhile (a queued key is bumped
 * as by a change); `reconcile` after a mapping change (a queued key keeps its version).
 * `schema` (quoted) qualifies the tables for a connection whose search_path is not the state's.
 */
export async function requeueEverySent(client: pg.ClientBase | pg.Pool, as: 'change' | 'reconcile', schema?: string): Promise<void> {
  const t = (name: string) => (schema ? `${schema}.${name}` : name);
  await client.query(
    `INSERT INTO ${t('pending')} AS pending (customer_key, priority)
     SELECT customer_key, ${PRIORITY.backfill} FROM (SELECT customer_key FROM ${t('sent')} UNION SELECT customer_key FROM ${t('sent_policies')}) AS s
     ${as === 'change' ? onConflictChange() : ON_CONFLICT_BACKFILL}`,
  );
}
