import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { UsageError } from '../../errors.js';
import { openStateDb } from '../../state/db.js';
import { concurrencyFor } from '../../deliver/loop.js';
import { requireStateSetUp } from '../../observe/status/setup-check.js';
import { formatCount, formatDuration } from '../../lib/units.js';
import {
  createReporter,
  deliveryEtaMs,
  pendingBackfillKeys,
  remainingKeys,
  resumeOrStartBackfill,
  runBackfill,
  waitForDrain,
  withBackfillLock,
  type BackfillRun,
  type DrainSummary,
} from '../../backfill/index.js';
import { deliverIfNoDaemon } from './backfill-deliver.js';
import { openSourcePool } from '../../pg/pool.js';
import { backfillDryRun } from './backfill-dry-run.js';

interface BackfillOptions extends GlobalOptions {
  where?: string;
  wait?: boolean;
  restart?: boolean;
  chunkSize?: string;
  dryRun?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withConfigOption(
    program
      .command('backfill')
      .description('enqueue every customer (or those matching --where) for delivery, behind live changes; resumes an interrupted run')
      .option('--where <sql>', 'only customers matching this SQL predicate (AND customers.where)')
      .option('--wait', 'stay until the backfill is delivered (a `run` daemon delivers), showing progress, then print a summary')
      .option('--restart', 'abandon an unfinished run instead of resuming it (its enqueued keys stay pending)')
      .option('--chunk-size <n>', 'keys per enqueue transaction', '5000')
      .option(
        '--dry-run',
        'assemble every matching customer without sending or writing anything; count changed / unchanged / invalid and which fields change',
      )
      .option('--json', 'with --dry-run: machine-readable output'),
  ).action(action((opts: BackfillOptions) => backfill(opts)));
}

async function backfill(opts: BackfillOptions): Promise<number> {
  if (opts.json && !opts.dryRun) throw new UsageError('backfill: --json goes with --dry-run');
  if (opts.dryRun) {
    if (opts.wait || opts.restart) throw new UsageError('backfill --dry-run enqueues nothing: drop --wait and --restart');
    const { config, path, log } = loadContext(opts);
    return backfillDryRun({ config, path, log, where: opts.where, json: opts.json });
  }
  const chunkSize = Number(opts.chunkSize ?? '5000');
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new UsageError(`--chunk-size: expected a positive integer, got ${opts.chunkSize}`);
  const ctx = loadContext(opts);
  const { config } = ctx;
  const limits = { requestsPerMinute: config.carecycle.requestsPerMinute, batchSize: config.sync.batchSize };
  // --wait delivers in this process: a connection of each per batch in flight, plus the enqueuer's.
  const width = concurrencyFor(config.carecycle.requestsPerMinute);
  const state = openStateDb(config, { max: width + 2, applicationName: 'carecycle-sync backfill' });
  const crm = openSourcePool(config, { max: width + 1, application_name: 'carecycle-sync backfill' });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const out = (t: string) => process.stdout.write(`${t}\n`);
  try {
    await requireStateSetUp(state);
    const reporter = createReporter({ limits });
    const result = await withBackfillLock(state, async (client) => {
      const { run, resumed, abandoned } = await resumeOrStartBackfill(state, crm, config, { where: opts.where, restart: opts.restart });
      if (abandoned)
        out(`Abandoned unfinished backfill run ${abandoned.runId} (${formatCount(abandoned.enqueued)} keys enqueued stay pending).`);
      out(describeStart(run, resumed));
      return runBackfill(state, crm, config, run, {
        client,
        chunkSize,
        signal: abort.signal,
        log: ctx.log.child({ component: 'backfill' }),
        onProgress: (p) =>
          reporter.enqueue({
            runId: p.run.runId,
            enqueued: p.run.enqueued,
            total: p.run.total ?? p.run.enqueued,
            remaining: p.run.total ?? 0,
          }),
      });
    });
    reporter.stop();
    if (result.aborted) {
      out(
        `Interrupted: backfill run ${result.run.runId} stopped at ${formatCount(result.run.enqueued)} of ${formatCount(result.run.total)} keys; run \`carecycle-sync backfill\` to resume.`,
      );
      return 1;
    }
    const pending = await pendingBackfillKeys(state);
    out(
      `Enqueued ${formatCount(result.run.enqueued)} keys (run ${result.run.runId}); ${formatCount(pending)} backfill keys pending. ` +
        `Delivery at ${limits.requestsPerMinute} requests/min × ${limits.batchSize} records: about ${formatDuration(deliveryEtaMs(pending, limits.requestsPerMinute, limits.batchSize))}.`,
    );
    if (!opts.wait) {
      out('The `run` daemon delivers them behind live changes; watch with `carecycle-sync status` (or use --wait).');
      return 0;
    }
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
      summary = await waitForDrain(state, result.run.runId, {
        signal: inline ? AbortSignal.any([abort.signal, inline.lost]) : abort.signal,
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
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await crm.end().catch(() => undefined);
    await state.close();
  }
}

function describeStart(run: BackfillRun, resumed: boolean): string {
  const scope = run.where ? ` where ${run.where}` : '';
  if (resumed) {
    return `Resuming unfinished backfill run ${run.runId}${scope}: ${formatCount(run.enqueued)} of ${formatCount(run.total)} keys already enqueued, started ${run.startedAt.toISOString()}.`;
  }
  return `Starting backfill run ${run.runId}: ${formatCount(run.total)} customers${scope}.`;
}

function describeSummary(s: DrainSummary): string {
  return [
    `Backfill run ${s.run.runId} drained in ${formatDuration(s.elapsedMs)}:`,
    `  delivered          ${formatCount(s.delivered)}`,
    `  skipped unchanged  ${formatCount(s.skippedUnchanged)}`,
    `  dead-lettered      ${formatCount(s.deadLettered)}${s.deadLettered > 0 ? '  (see `carecycle-sync dead-letters list`)' : ''}`,
  ].join('\n');
}
