import type pg from 'pg';
import type { Config } from '../config/schema.js';
import type { StateDb } from '../state/db.js';
import { countSelect, resolveKeyset } from './keyset.js';
import { anyRunExists, createRun, unfinishedRun } from './runs.js';
import { BackfillBusyError, runBackfill, withBackfillLock, type RunOptions, type RunResult } from './run.js';

/**
 * For `run`: "a first run on a new slot backfills automatically" (DESIGN §1.5), and a daemon
 * killed while enqueueing finishes the job.
 *
 * Contract with `setup` (src/ops/setup.ts): creating a NEW slot writes the runtime document
 * `initial_backfill` = {slot, slotLsn, createdAt, status: 'requested'} (and `setup --print-sql`
 * has the DBA write it). The slot only streams changes made after its creation, so the existing
 * book must be backfilled. This function starts that run and sets status 'started' (with the
 * run id) in the SAME state transaction as the run row, so a kill in between can neither lose
 * the request nor start a second run. Without any document and without any run (state created
 * by hand), it backfills too.
 */
export const INITIAL_BACKFILL_DOC = 'initial_backfill';

export interface InitialBackfillDoc {
  slot?: string;
  slotLsn?: string | null;
  createdAt?: string;
  status?: 'requested' | 'started';
  runId?: string;
}

async function readDoc(client: pg.ClientBase): Promise<InitialBackfillDoc | undefined> {
  const r = await client.query<{ value: InitialBackfillDoc }>('SELECT value FROM runtime WHERE name = $1', [INITIAL_BACKFILL_DOC]);
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
        return runBackfill(state, crm, config, open, { ...opts, client });
      }
      const doc = await readDoc(client);
      const requested = doc ? doc.status === 'requested' : !(await anyRunExists(client));
      if (!requested) return null;
      const src = await resolveKeyset(crm, config, null);
      const total = Number((await crm.query<{ n: string }>(countSelect(src))).rows[0]!.n);
      await client.query('BEGIN');
      let run;
      try {
        run = await createRun(client, null, total);
        const value = { ...(doc ?? { slot: config.source.slot }), status: 'started', runId: run.runId };
        await client.query(
          `INSERT INTO runtime (name, value) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [INITIAL_BACKFILL_DOC, JSON.stringify(value)],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      opts.log?.info({ runId: run.runId, total }, 'new slot: backfilling every customer');
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
