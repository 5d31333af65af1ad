import type pg from 'pg';
import type { StateDb } from '../state/db.js';
import { INITIAL_BACKFILL_DOC } from '../state/runtime.js';

/** One row of the `backfill` table, with numbers as numbers. */
export interface BackfillRun {
  runId: string;
  where: string | null;
  cursor: string | null;
  enqueued: number;
  total: number | null;
  startedAt: Date;
  finishedAt: Date | null;
}

interface Row {
  run_id: string;
  where_sql: string | null;
  cursor: string | null;
  enqueued: string;
  total: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const COLUMNS = 'run_id, where_sql, cursor, enqueued, total, started_at, finished_at';

function toRun(r: Row): BackfillRun {
  return {
    runId: String(r.run_id),
    where: r.where_sql,
    cursor: r.cursor,
    enqueued: Number(r.enqueued),
    total: r.total === null ? null : Number(r.total),
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

type Queryable = pg.Pool | pg.ClientBase;
const poolOf = (s: StateDb | Queryable): Queryable => ('pool' in s && 'db' in s ? s.pool : (s as Queryable));

export { INITIAL_BACKFILL_DOC };

/**
 * Creates a run row. A run over all customers (no --where) also satisfies the initial backfill
 * `setup` requested for a new slot: the request is marked started in the same statement, so the
 * daemon's first run does not send the whole book a second time.
 */
export async function createRun(state: StateDb | Queryable, where: string | null, total: number): Promise<BackfillRun> {
  const r = await poolOf(state).query<Row>(
    `WITH r AS (INSERT INTO backfill (where_sql, total) VALUES ($1, $2) RETURNING ${COLUMNS}),
          d AS (UPDATE runtime SET value = value || jsonb_build_object('status', 'started', 'runId', (SELECT run_id::text FROM r)),
                                   updated_at = now()
                 WHERE name = '${INITIAL_BACKFILL_DOC}' AND value->>'status' = 'requested' AND $1::text IS NULL)
     SELECT ${COLUMNS} FROM r`,
    [where, total],
  );
  return toRun(r.rows[0]!);
}

/** The newest run that has not finished enqueueing, if any. */
export async function unfinishedRun(state: StateDb | Queryable): Promise<BackfillRun | undefined> {
  const r = await poolOf(state).query<Row>(`SELECT ${COLUMNS} FROM backfill WHERE finished_at IS NULL ORDER BY run_id DESC LIMIT 1`);
  return r.rows[0] ? toRun(r.rows[0]) : undefined;
}

export async function latestRun(state: StateDb | Queryable): Promise<BackfillRun | undefined> {
  const r = await poolOf(state).query<Row>(`SELECT ${COLUMNS} FROM backfill ORDER BY run_id DESC LIMIT 1`);
  return r.rows[0] ? toRun(r.rows[0]) : undefined;
}

export async function getRun(state: StateDb | Queryable, runId: string): Promise<BackfillRun | undefined> {
  const r = await poolOf(state).query<Row>(`SELECT ${COLUMNS} FROM backfill WHERE run_id = $1`, [runId]);
  return r.rows[0] ? toRun(r.rows[0]) : undefined;
}

export async function anyRunExists(state: StateDb | Queryable): Promise<boolean> {
  const r = await poolOf(state).query('SELECT 1 FROM backfill LIMIT 1');
  return (r.rowCount ?? 0) > 0;
}

/** Marks the run finished (all keys enqueued, or abandoned by `backfill --restart`). */
export async function finishRun(state: StateDb | Queryable, runId: string): Promise<BackfillRun> {
  const r = await poolOf(state).query<Row>(
    `UPDATE backfill SET finished_at = coalesce(finished_at, now()) WHERE run_id = $1 RETURNING ${COLUMNS}`,
    [runId],
  );
  if (!r.rows[0]) throw new Error(`backfill run ${runId} not found in the state table`);
  return toRun(r.rows[0]);
}
