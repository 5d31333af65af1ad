import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type CommandContext, type GlobalOptions } from '../context.js';
import { UsageError } from '../../errors.js';
import { openStateDb } from '../../state/db.js';
import { concurrencyFor } from '../../deliver/loop.js';
import { requireStateSetUp } from '../../observe/status/setup-check.js';
import { formatCount, formatDuration } from '../../lib/units.js';
import {
  createReporter,
  deliveryEtaMs,
  pendingBackfillKeys,
  resumeOrStartBackfill,
  runBackfill,
  withBackfillLock,
  type BackfillRun,
  type RunResult,
} from '../../backfill/index.js';
import { openSourcePool } from '../../pg/pool.js';
import { Releasers } from '../../lib/releasers.js';
import { backfillDryRun } from './backfill-dry-run.js';
import { out, waitForDelivery, type BackfillSession } from './backfill-wait.js';

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
  const chunkSize = chunkSizeOf(opts);
  const releasers = new Releasers();
  try {
    const session = openSession(loadContext(opts), releasers);
    await requireStateSetUp(session.state);
    const result = await enqueue(session, opts, chunkSize);
    if (result.aborted) {
      out(
        `Interrupted: backfill run ${result.run.runId} stopped at ${formatCount(result.run.enqueued)} of ${formatCount(result.run.total)} keys; run \`carecycle-sync backfill\` to resume.`,
      );
      return 1;
    }
    out(describeEnqueued(result.run, await pendingBackfillKeys(session.state), session.limits));
    if (!opts.wait) {
      out('The `run` daemon delivers them behind live changes; watch with `carecycle-sync status` (or use --wait).');
      return 0;
    }
    return await waitForDelivery(session, result.run);
  } finally {
    await releasers.release();
  }
}

function chunkSizeOf(opts: BackfillOptions): number {
  const chunkSize = Number(opts.chunkSize ?? '5000');
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new UsageError(`--chunk-size: expected a positive integer, got ${opts.chunkSize}`);
  return chunkSize;
}

/** The pools, Ctrl-C, and the progress display of one command, released in reverse order. */
function openSession(ctx: CommandContext, releasers: Releasers): BackfillSession {
  const { config } = ctx;
  const limits = { requestsPerMinute: config.carecycle.requestsPerMinute, batchSize: config.sync.batchSize };
  // --wait delivers in this process: a connection of each per batch in flight, plus the enqueuer's.
  const width = concurrencyFor(config.carecycle.requestsPerMinute);
  const state = releasers.add('state database', openStateDb(config, { max: width + 2, applicationName: 'carecycle-sync backfill' }), (s) =>
    s.close(),
  );
  const crm = releasers.add('CRM pool', openSourcePool(config, { max: width + 1, application_name: 'carecycle-sync backfill' }), (p) =>
    p.end().catch(() => undefined),
  );
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  releasers.defer('signal handlers', () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  return { ctx, config, state, crm, signal: abort.signal, limits, reporter: createReporter({ limits }) };
}

/** Enqueues under the backfill lock: resumes an unfinished run (or abandons it with --restart). */
async function enqueue(session: BackfillSession, opts: BackfillOptions, chunkSize: number): Promise<RunResult> {
  const { state, crm, config, reporter } = session;
  const result = await withBackfillLock(state, async (client) => {
    const { run, resumed, abandoned } = await resumeOrStartBackfill(state, crm, config, { where: opts.where, restart: opts.restart });
    if (abandoned)
      out(`Abandoned unfinished backfill run ${abandoned.runId} (${formatCount(abandoned.enqueued)} keys enqueued stay pending).`);
    out(describeStart(run, resumed));
    return runBackfill(state, crm, config, run, {
      client,
      chunkSize,
      signal: session.signal,
      log: session.ctx.log.child({ component: 'backfill' }),
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
  return result;
}

function describeStart(run: BackfillRun, resumed: boolean): string {
  const scope = run.where ? ` where ${run.where}` : '';
  if (resumed) {
    return `Resuming unfinished backfill run ${run.runId}${scope}: ${formatCount(run.enqueued)} of ${formatCount(run.total)} keys already enqueued, started ${run.startedAt.toISOString()}.`;
  }
  return `Starting backfill run ${run.runId}: ${formatCount(run.total)} customers${scope}.`;
}

function describeEnqueued(run: BackfillRun, pending: number, limits: BackfillSession['limits']): string {
  return (
    `Enqueued ${formatCount(run.enqueued)} keys (run ${run.runId}); ${formatCount(pending)} backfill keys pending. ` +
    `Delivery at ${limits.requestsPerMinute} requests/min × ${limits.batchSize} records: about ${formatDuration(deliveryEtaMs(pending, limits.requestsPerMinute, limits.batchSize))}.`
  );
}
