import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { stateUrl, type StateDb } from '../state/db.js';
import { enqueueChunkSameDb, enqueueChunkTwoDbs, type ChunkResult } from './enqueue.js';
import { countSelect, resolveKeyset, type KeysetSource } from './keyset.js';
import { createRun, finishRun, getRun, unfinishedRun, type BackfillRun } from './runs.js';
import { onConnection } from '../pg/sqlstate.js';

/**
 * Backfill: every customer key (matching customers.where and the optional --where) goes into
 * `pending` at backfill priority, in keyset-paged chunks whose cursor is persisted with the keys
 * (see enqueue.ts), so a killed backfill resumes where it stopped. One process enqueues at a
 * time (a session advisory lock on the state database); delivery drains the keys behind live
 * changes at the rate limit.
 */

export const DEFAULT_CHUNK_SIZE = 5000;

export class BackfillBusyError extends Error {
  override readonly name = 'BackfillBusyError';
}

export interface BackfillProgress {
  run: BackfillRun;
  /** Keys read in the chunk just committed. */
  chunk: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  chunkSize?: number;
  onProgress?: (p: BackfillProgress) => void;
  log?: Logger;
  /** A state connection that already holds the backfill lock (from withBackfillLock). */
  client?: pg.PoolClient;
}

export interface RunResult {
  run: BackfillRun;
  /** The signal stopped the run before it finished; the next `backfill` resumes it. */
  aborted: boolean;
}

const lockName = (state: StateDb) => `carecycle_sync.backfill.${state.schema}`;

/** Runs `fn` on a state connection holding the backfill lock; BackfillBusyError when another process holds it. */
export async function withBackfillLock<T>(state: StateDb, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await state.pool.connect();
  let locked = false;
  try {
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockName(state)]);
    locked = r.rows[0]!.ok;
    if (!locked) {
      throw new BackfillBusyError(
        'another carecycle-sync process is enqueueing a backfill right now (the `run` daemon or a `backfill` command); try again when it is done',
      );
    }
    return await fn(client);
  } finally {
    if (locked) await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName(state)]).catch(() => undefined);
    client.release();
  }
}

/** Creates a run row (with the number of matching customers as its total) after checking the predicate. */
export async function startBackfill(
  state: StateDb,
  crm: pg.Pool,
  config: Config,
  opts: { where?: string | null } = {},
): Promise<BackfillRun> {
  const where = opts.where?.trim() || null;
  const src = await resolveKeyset(crm, config, where);
  const total = await countKeys(crm, src);
  return createRun(state, where, total);
}

async function countKeys(crm: pg.Pool, src: KeysetSource): Promise<number> {
  const r = await onConnection('source', crm.query<{ n: string }>(countSelect(src)));
  return Number(r.rows[0]!.n);
}

/**
 * The run the next `backfill` works on: the unfinished one (resumed) or a new one. A different
 * --where while a run is unfinished is a usage error unless `restart` abandons the old run (its
 * enqueued keys stay pending and are delivered anyway).
 */
export async function resumeOrStartBackfill(
  state: StateDb,
  crm: pg.Pool,
  config: Config,
  opts: { where?: string | null; restart?: boolean } = {},
): Promise<{ run: BackfillRun; resumed: boolean; abandoned?: BackfillRun }> {
  const where = opts.where?.trim() || null;
  const open = await unfinishedRun(state);
  if (open && !opts.restart) {
    if (where !== null && where !== open.where) {
      throw new UsageError(
        `backfill run ${open.runId} (${open.where ? `--where ${JSON.stringify(open.where)}` : 'all customers'}) is unfinished: ` +
          'run `carecycle-sync backfill` without --where to resume it, or add --restart to abandon it and start this one',
      );
    }
    return { run: open, resumed: true };
  }
  const abandoned = open ? await finishRun(state, open.runId) : undefined;
  const run = await startBackfill(state, crm, config, { where });
  return abandoned ? { run, resumed: false, abandoned } : { run, resumed: false };
}

/** Enqueues the rest of `run`, chunk by chunk, and marks it finished; stops early on `signal`. */
export async function runBackfill(
  state: StateDb,
  crm: pg.Pool,
  config: Config,
  run: BackfillRun,
  opts: RunOptions = {},
): Promise<RunResult> {
  if (!opts.client) return withBackfillLock(state, (client) => runBackfill(state, crm, config, run, { ...opts, client }));
  const client = opts.client;
  const src = await resolveKeyset(crm, config, run.where);
  const sameDb = stateUrl(config) === config.source.url;
  const limit = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  // Re-read under the lock: another process may have moved the cursor since `run` was loaded.
  let current = (await getRun(client, run.runId)) ?? run;
  opts.log?.debug(
    { runId: current.runId, cursor: current.cursor, enqueued: current.enqueued, total: current.total, sameDb },
    'backfill enqueueing',
  );
  while (current.finishedAt === null) {
    if (opts.signal?.aborted) return { run: current, aborted: true };
    const res: ChunkResult = sameDb
      ? await enqueueChunkSameDb(client, state.schema, src, current.runId, current.cursor, limit)
      : await enqueueChunkTwoDbs(crm, client, src, current.runId, current.cursor, limit);
    current = { ...current, cursor: res.cursor, enqueued: res.enqueued };
    if (res.keys < limit) current = await finishRun(client, current.runId);
    opts.onProgress?.({ run: current, chunk: res.keys });
  }
  opts.log?.debug({ runId: current.runId, enqueued: current.enqueued }, 'backfill enqueued every key');
  return { run: current, aborted: false };
}
