/**
 * Backfill keys into `pending` (docs/state-tables.md, `pending`): at backfill priority, leaving a
 * queued key's version alone (ON_CONFLICT_BACKFILL). The chunking and the run's cursor are
 * src/backfill/enqueue.ts.
 */
import type pg from 'pg';
import { PRIORITY } from '../state/tables.js';
import { ON_CONFLICT_BACKFILL } from './conflict-rules.js';

/**
 * The insert, for a statement that makes its keys itself (the chunk CTE of a backfill in the
 * source database): `SELECT <keyExpr> FROM <from>` gives the keys; `table` is `pending`,
 * qualified when the connection's search_path is not the state schema.
 */
export const backfillInsertSql = (table: string, keyExpr: string, from: string): string =>
  `INSERT INTO ${table} AS pending (customer_key, priority) SELECT ${keyExpr}, ${PRIORITY.backfill} FROM ${from} ${ON_CONFLICT_BACKFILL}`;

/** Upserts keys at backfill priority; the caller's transaction decides atomicity. */
export async function enqueueBackfillKeys(client: pg.ClientBase | pg.Pool, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query(backfillInsertSql('pending', 'k', 'unnest($1::text[]) AS k'), [keys]);
}
