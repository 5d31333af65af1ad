import type pg from 'pg';
import type { CommandContext } from '../context.js';
import type { Config } from '../../config/schema.js';
import type { StateDb } from '../../state/db.js';
import { formatCount, formatDuration } from '../../lib/units.js';
import { remainingKeys, waitForDrain, type BackfillRun, type DrainSummary, type Reporter } from '../../backfill/index.js';
import { deliverIfNoDaemon } from './backfill-deliver.js';

/** What the steps of one `backfill` command share (opened by backfill.ts). */
export interface BackfillSession {
  ctx: CommandContext;
  config: Config;
  state: StateDb;
  crm: pg.Pool;
  /** Aborts on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
  limits: { requestsPerMinute: number; batchSize: number };
  reporter: Reporter;
}

export const out = (t: string): void => {
  process.stdout.write(`${t}\n`);
};

/**
 * `backfill --wait` once the keys are enqueued: delivers in this process when no daemon holds the
 * slot (./backfill-deliver.ts), else waits for the daemon; shows progress until the run is
 * drained, then prints the summary. 0 when drained, 1 when stopped or the slot lock was lost.
 */
export async function waitForDelivery(session: BackfillSession, run: BackfillRun): Promise<number> {
  const { ctx, config, state, crm, limits, reporter } = session;
  // Only warnings from the in-process loop: the progress line is the user's view.
  const deliveryLog = ctx.log.child({ component: 'delivery' }, { level: ctx.log.isLevelEnabled('debug') ? 'debug' : 'warn' });
  const inline = await deliverIfNoDaemon(config, ctx.path, state, crm, deliveryLog);
  out(
    inline
      ? `No \`run\` daemon holds slot "${config.source.slot}": delivering in this process at ${limits.requestsPerMinute} requests/min (Ctrl-C stops; \`run\` continues later).`
      : 'A `run` daemon is delivering; waiting for it to drain the backfill.',
  );
  let summary: DrainSummary | null;
  try {
    summary = await waitForDrain(state, run.runId, {
      signal: inline ? AbortSignal.any([session.signal, inline.lost]) : session.signal,
      stallMs: inline ? Number.POSITIVE_INFINITY : 120_000,
      onPoll: (s) =>
        reporter.drain({
          runId: s.run.runId,
          settled: s.settled,
          total: s.run.enqueued,
          pending: remainingKeys({
            pendingBackfill: s.pending,
            enqueued: s.run.enqueued,
            total: s.run.total,
            finished: s.run.finishedAt !== null,
          }),
        }),
      onStall: ({ sinceMs }) =>
        process.stderr.write(
          `\nwarning: nothing was delivered for ${formatDuration(sinceMs)} and no daemon reported delivery state: is \`carecycle-sync run\` running?\n`,
        ),
    });
  } finally {
    await inline?.stop();
  }
  reporter.stop();
  if (!summary && inline?.lost.aborted) {
    out(
      'Lost the slot lock while delivering (the source restarted or the connection was cut; a `run` daemon may hold it now): this process stopped delivering. `carecycle-sync status` shows the progress.',
    );
    return 1;
  }
  if (!summary) {
    out(
      inline
        ? 'Stopped; `carecycle-sync backfill --wait` or `run` delivers the rest.'
        : 'Stopped waiting; the daemon keeps delivering. `carecycle-sync status` shows the progress.',
    );
    return 1;
  }
  if (inline) {
    // This process did the delivering: its own counts are exact (live keys included).
    const st = inline.status();
    summary = { ...summary, delivered: st.delivered, skippedUnchanged: st.skipped, deadLettered: st.deadLettered };
  }
  out(describeSummary(summary));
  return 0;
}

function describeSummary(s: DrainSummary): string {
  return [
    `Backfill run ${s.run.runId} drained in ${formatDuration(s.elapsedMs)}:`,
    `  delivered          ${formatCount(s.delivered)}`,
    `  skipped unchanged  ${formatCount(s.skippedUnchanged)}`,
    `  dead-lettered      ${formatCount(s.deadLettered)}${s.deadLettered > 0 ? '  (see `carecycle-sync dead-letters list`)' : ''}`,
  ].join('\n');
}
