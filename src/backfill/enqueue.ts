import type pg from 'pg';
import { quoteIdent as q } from '../pg/names.js';
import { backfillInsertSql, enqueueBackfillKeys } from '../queue/backfill.js';
import { chunkSelect, type KeysetSource } from './keyset.js';
import { onConnection } from '../pg/sqlstate.js';

/**
 * Moving one chunk of customer keys into `pending` and the run's cursor forward, atomically:
 * a killed backfill resumes at the persisted cursor with nothing skipped and nothing counted
 * twice.
 *
 * The insert itself, and what it does to a key already queued, is src/queue/backfill.ts.
 */
export interface ChunkResult {
  /** Keys read in this chunk (0 = the keyset is exhausted). */
  keys: number;
  cursor: string | null;
  enqueued: number;
}

/**
 * State and source are one database: one statement reads the chunk, upserts it and moves the
 * cursor, so no key travels through Node (this is what makes 50,000+ keys/s possible).
 */
export async function enqueueChunkSameDb(
  client: pg.ClientBase,
  stateSchema: string,
  src: KeysetSource,
  runId: string,
  cursor: string | null,
  limit: number,
): Promise<ChunkResult> {
  const s = q(stateSchema);
  const text = `WITH chunk AS (${chunkSelect(src, cursor !== null)}),
    ins AS (${backfillInsertSql(`${s}.pending`, 'k::text', 'chunk')}),
    -- The cast comes after the ORDER BY: \`SELECT k::text … ORDER BY k\` would sort the text output
    -- column ('9' > '14'), the very bug keyset paging must avoid.
    n AS (SELECT count(*) AS n, (SELECT c.k FROM chunk c ORDER BY c.k DESC LIMIT 1)::text AS last FROM chunk)
    UPDATE ${s}.backfill SET cursor = coalesce(n.last, $2::text, backfill.cursor), enqueued = backfill.enqueued + n.n
      FROM n WHERE run_id = $3
    RETURNING backfill.cursor, backfill.enqueued, n.n`;
  const r = await client.query<{ cursor: string | null; enqueued: string; n: string }>(text, [limit, cursor, runId]);
  const row = r.rows[0];
  if (!row) throw new Error(`backfill run ${runId} disappeared from the state table`);
  return { keys: Number(row.n), cursor: row.cursor, enqueued: Number(row.enqueued) };
}

/** Reads the next chunk of keys from the source database (as text, in key order). */
export async function readChunk(crm: pg.Pool | pg.ClientBase, src: KeysetSource, cursor: string | null, limit: number): Promise<string[]> {
  // ORDER BY the qualified input column: in the key's own type, not the text output column.
  const text = `SELECT chunk.k::text AS k FROM (${chunkSelect(src, cursor !== null)}) AS chunk ORDER BY chunk.k`;
  const r = await onConnection('source', crm.query<{ k: string }>(text, cursor !== null ? [limit, cursor] : [limit]));
  return r.rows.map((row) => row.k);
}

/**
 * State is another database: the keys come through Node, then one state transaction upserts them
 * and moves the cursor, so the cursor never passes a key that is not durable in `pending`.
 */
export async function enqueueChunkTwoDbs(
  crm: pg.Pool | pg.ClientBase,
  state: pg.ClientBase,
  src: KeysetSource,
  runId: string,
  cursor: string | null,
  limit: number,
): Promise<ChunkResult> {
  const keys = await readChunk(crm, src, cursor, limit);
  const last = keys.length > 0 ? keys[keys.length - 1]! : cursor;
  await state.query('BEGIN');
  try {
    await enqueueBackfillKeys(state, keys);
    const r = await state.query<{ enqueued: string }>(
      'UPDATE backfill SET cursor = $2, enqueued = enqueued + $3 WHERE run_id = $1 RETURNING enqueued',
      [runId, last, keys.length],
    );
    if (!r.rows[0]) throw new Error(`backfill run ${runId} disappeared from the state table`);
    await state.query('COMMIT');
    return { keys: keys.length, cursor: last, enqueued: Number(r.rows[0].enqueued) };
  } catch (err) {
    await state.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
