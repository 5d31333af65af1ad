import type pg from 'pg';
import type { Config } from '../config/schema.js';
import type { StateDb } from '../state/db.js';
import { anyRunExists, INITIAL_BACKFILL_DOC, unfinishedRun } from './runs.js';
import { BackfillBusyError, runBackfill, startBackfill, withBackfillLock, type RunOptions, type RunResult } from './run.js';

/**
 * For `run`: "a first run on a new slot backfills automatically" (docs/architecture.md,
 * "Backfill"), and a daemon killed while enqueueing finishes the job.
 *
 * Contract with `setup` (src/commands/setup.ts): creating a NEW slot writes the runtime document
 * `initial_backfill` = {slot, slotLsn, createdAt, status: 'requested'} (`setup --print-sql` has
 * the DBA write it). The slot only streams changes made after its creation, so the existing book
 * must be backfilled. Creating a run over all customers — here, or by `carecycle-sync backfill`
 * without --where — sets status 'started' and the run id in the same statement as the run row
 * (runs.ts createRun), so a kill can neither lose the request nor start a second full run.
 * Without any document and without any run (state created by hand), it backfills too.
 */
export { INITIAL_BACKFILL_DOC };

export interface InitialBackfillDoc {
  slot?: string;
  slotLsn?: string | null;
  createdAt?: string;
  status?: 'requested' | 'started';
  runId?: string;
  /** Why it was requested again: 'slot recreated', 'mapping changed'. */
  reason?: string;
}

export async function readInitialBackfillDoc(q: pg.ClientBase | pg.Pool): Promise<InitialBackfillDoc | undefined> {
  const r = await q.query<{ value: InitialBackfillDoc }>('SELECT value FROM runtime WHERE name = $1', [INITIAL_BACKFILL_DOC]);
  return r.rows[0]?.value;
}

/**
 * Resumes an unfinished run, or starts the requested initial one, and enqueues it to the end.
 * Returns null when there is nothing to do, or when another process (a `backfill` command) holds
 * the backfill lock: that process does the work. Run it in the background with the daemon's
 * shutdown signal; an interrupted run resumes on the next start.
 */
export async function ensureInitialBackfill(
  state: StateDb,
  crm: pg.Pool,
  config: Config,
  opts: Omit<RunOptions, 'client'> = {},
): Promise<RunResult | null> {
  try {
    return await withBackfillLock(state, async (client) => {
      const open = await unfinishedRun(client);
      if (open) {
        opts.log?.info({ runId: open.runId, enqueued: open.enqueued, total: open.total }, 'resuming the unfinished backfill');
        const resumed = await runBackfill(state, crm, config, open, { ...opts, client });
        // A reconcile requested meanwhile (a mapping change) still needs its own full run.
        if (resumed.aborted || (await readInitialBackfillDoc(client))?.status !== 'requested') return resumed;
      }
      const doc = await readInitialBackfillDoc(client);
      const requested = doc ? doc.status === 'requested' : !(await anyRunExists(client));
      if (!requested) return null;
      const run = await startBackfill(state, crm, config);
      const why = doc?.reason ?? 'new slot';
      opts.log?.info({ runId: run.runId, total: run.total, reason: why }, `${why}: backfilling every customer`);
      return runBackfill(state, crm, config, run, { ...opts, client });
    });
  } catch (err) {
    if (err instanceof BackfillBusyError) {
      opts.log?.info('a backfill command is enqueueing; the daemon delivers what it enqueues');
      return null;
    }
    throw err;
  }
}
