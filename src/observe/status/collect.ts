import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import { redactUrl, scrub } from '../../log/secrets.js';
import type { StateDb } from '../../state/db.js';
import {
  BACKFILL_RETRY_DOC,
  getRuntime,
  readCapture,
  readDelivery,
  requestsInLastMinute,
  type BackfillRetryRuntime,
  type CaptureRuntime,
  type DeliveryRuntime,
  type RequestWindow,
} from '../../state/runtime.js';
import { latestRun } from '../../backfill/runs.js';
import { depthByPriority, pendingBackfillKeys } from '../../queue/depth.js';
import { readInitialBackfillDoc } from '../../backfill/initial.js';
import { deliveryEtaMs, remainingKeys } from '../../backfill/eta.js';
import { missingStateTables, NOT_SET_UP } from './setup-check.js';
import { readRecreations } from '../../source/slot-recreate.js';
import { readHeld, type HeldSummary } from '../../deliver/held.js';
import { deliveredPerMinute } from './throughput.js';
import { readSlotFacts } from '../../pg/slot.js';
import { ownSourceProblem, publishedProblems, type PgProblemReport } from './pg-problems.js';

/**
 * Everything `status` shows, read from the source catalog (slot, WAL) and the state tables
 * (checkpoint, queue, dead letters, backfill, runtime documents, requests). Ages are computed
 * by the database clock where the timestamp was written by the database.
 */

export interface SlotStatus {
  name: string;
  active: boolean;
  activePid: number | null;
  walStatus: string | null;
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
  /** WAL written since the last confirmed position (what the daemon has not yet consumed). */
  lagBytes: number | null;
  /** WAL the server keeps for the slot (from restart_lsn). */
  retainedBytes: number | null;
  /** Bytes left before max_slot_wal_keep_size invalidates the slot; null when unlimited. */
  safeWalSizeBytes: number | null;
  /** Times the daemon recreated this slot after it was lost (source.onSlotLost: recreate). */
  recreations?: number;
  lastRecreatedAt?: string | null;
  lastLostReason?: string | null;
}

export interface QueueLane {
  keys: number;
  oldestAgeMs: number | null;
  /** Keys that failed at least once and wait for their next attempt. */
  retrying: number;
}

export interface DeadLetterBrief {
  key: string;
  reason: string;
  fieldPath: string | null;
  lastFailedAt: string;
}

/** How many dead letters share one reason (and field). */
export interface DeadLetterReason {
  reason: string;
  fieldPath: string | null;
  count: number;
}

export interface BackfillStatus {
  runId: string;
  where: string | null;
  enqueued: number;
  total: number | null;
  finished: boolean;
  pending: number;
  remaining: number;
  etaMs: number;
  startedAt: string;
}

export interface StatusReport {
  setUp: boolean;
  problems: string[];
  source: { url: string; slot: string; publication: string };
  stateSchema: string;
  slot: SlotStatus | null;
  checkpoint: { lsn: string; updatedAt: string; ageMs: number } | null;
  queue: { live: QueueLane; backfill: QueueLane; total: number } | null;
  deadLetters: { count: number; newest: DeadLetterBrief[]; topReasons: DeadLetterReason[] } | null;
  backfill: BackfillStatus | null;
  /** `setup` created a new slot and asked the first run to backfill; not started yet. */
  initialBackfillRequested: boolean;
  /** What the mass-cancellation rail holds; absent when nothing is held. */
  held?: HeldSummary;
  /** The initial backfill failed and the daemon retries it by itself; null when it is not failing. */
  initialBackfillRetry: BackfillRetryRuntime | null;
  requests: (RequestWindow & { limit: number }) | null;
  capture: (CaptureRuntime & { updatedAt: string | null }) | null;
  delivery: (DeliveryRuntime & { updatedAt: string | null }) | null;
  apiKeyRejected: boolean;
  /** Records in requests CareCycle accepted, per minute over the last hour (oldest first). */
  deliveredPerMinute: number[] | null;
  lastError: { component: 'capture' | 'delivery'; message: string; at: string | null } | null;
  /** Postgres errors only a person can fix (src/pg/sqlstate.ts, ./pg-problems.ts). */
  pgProblems: PgProblemReport[];
}

export async function readSlot(crm: pg.Pool, slot: string): Promise<SlotStatus | null> {
  const f = await readSlotFacts(crm, slot);
  if (!f) return null;
  return {
    name: slot,
    active: f.active,
    activePid: f.activePid,
    walStatus: f.walStatus,
    confirmedFlushLsn: f.confirmedFlushLsn,
    restartLsn: f.restartLsn,
    lagBytes: f.lagBytes,
    retainedBytes: f.retainedBytes,
    safeWalSizeBytes: f.safeWalSizeBytes,
  };
}

async function publicationExists(crm: pg.Pool, name: string): Promise<boolean> {
  const r = await crm.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

async function readQueue(state: StateDb): Promise<NonNullable<StatusReport['queue']>> {
  const depth = await depthByPriority(state);
  const lane = (p: (n: number) => boolean): QueueLane => {
    const rows = depth.filter((x) => p(x.priority));
    const ages = rows.map((x) => x.oldestAgeMs).filter((x): x is number => x !== null);
    return {
      keys: rows.reduce((a, x) => a + x.keys, 0),
      oldestAgeMs: ages.length ? Math.max(...ages) : null,
      retrying: rows.reduce((a, x) => a + x.retrying, 0),
    };
  };
  const live = lane((p) => p === 0);
  const backfill = lane((p) => p !== 0);
  return { live, backfill, total: live.keys + backfill.keys };
}

async function readDeadLetters(state: StateDb, newest: number): Promise<NonNullable<StatusReport['deadLetters']>> {
  const c = await state.pool.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters');
  const r = await state.pool.query<{ customer_key: string; reason: string; field_path: string | null; last_failed_at: Date }>(
    'SELECT customer_key, reason, field_path, last_failed_at FROM dead_letters ORDER BY last_failed_at DESC, customer_key LIMIT $1',
    [newest],
  );
  const top = await state.pool.query<{ reason: string; field_path: string | null; n: string }>(
    'SELECT reason, field_path, count(*) AS n FROM dead_letters GROUP BY reason, field_path ORDER BY count(*) DESC, reason LIMIT 5',
  );
  return {
    count: Number(c.rows[0]!.n),
    newest: r.rows.map((x) => ({
      key: x.customer_key,
      reason: scrub(x.reason),
      fieldPath: x.field_path,
      lastFailedAt: x.last_failed_at.toISOString(),
    })),
    topReasons: top.rows.map((x) => ({ reason: scrub(x.reason), fieldPath: x.field_path, count: Number(x.n) })),
  };
}

async function readBackfill(state: StateDb, config: Config): Promise<BackfillStatus | null> {
  const run = await latestRun(state);
  if (!run) return null;
  const pending = await pendingBackfillKeys(state);
  const finished = run.finishedAt !== null;
  const remaining = remainingKeys({ pendingBackfill: pending, enqueued: run.enqueued, total: run.total, finished });
  return {
    runId: run.runId,
    where: run.where,
    enqueued: run.enqueued,
    total: run.total,
    finished,
    pending,
    remaining,
    etaMs: deliveryEtaMs(remaining, config.carecycle.requestsPerMinute, config.sync.batchSize),
    startedAt: run.startedAt.toISOString(),
  };
}

async function readCheckpoint(state: StateDb, slot: string): Promise<StatusReport['checkpoint']> {
  const r = await state.pool.query<{ lsn: string; updated_at: Date; age_ms: string }>(
    `SELECT lsn::text AS lsn, updated_at, (extract(epoch FROM now() - updated_at) * 1000)::bigint AS age_ms FROM checkpoint WHERE slot = $1`,
    [slot],
  );
  const row = r.rows[0];
  return row ? { lsn: row.lsn, updatedAt: row.updated_at.toISOString(), ageMs: Number(row.age_ms) } : null;
}

/** The most recent of the components' last errors. */
export function newestError(capture: CaptureRuntime | null, delivery: DeliveryRuntime | null): StatusReport['lastError'] {
  const candidates = [
    capture?.lastError ? { component: 'capture' as const, message: capture.lastError, at: capture.lastErrorAt } : null,
    delivery?.lastError ? { component: 'delivery' as const, message: delivery.lastError, at: delivery.lastErrorAt } : null,
  ].filter((c): c is NonNullable<typeof c> => c !== null);
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => (b.at ? Date.parse(b.at) : 0) - (a.at ? Date.parse(a.at) : 0));
  const e = candidates[0]!;
  return { ...e, message: scrub(e.message) };
}

/** A report with nothing read yet (also what the console serves when the state cannot be read). */
export function emptyReport(source: StatusReport['source'], stateSchema: string): StatusReport {
  return {
    setUp: false,
    problems: [],
    source,
    stateSchema,
    slot: null,
    checkpoint: null,
    queue: null,
    deadLetters: null,
    backfill: null,
    initialBackfillRequested: false,
    initialBackfillRetry: null,
    requests: null,
    capture: null,
    delivery: null,
    apiKeyRejected: false,
    deliveredPerMinute: null,
    lastError: null,
    pgProblems: [],
  };
}

async function readSource(crm: pg.Pool, config: Config, report: StatusReport): Promise<void> {
  report.slot = await readSlot(crm, config.source.slot);
  if (!report.slot) report.problems.push(`replication slot "${config.source.slot}" does not exist`);
  if (!(await publicationExists(crm, config.source.publication)))
    report.problems.push(`publication "${config.source.publication}" does not exist`);
}
export async function collectStatus(
  state: StateDb,
  crm: pg.Pool,
  config: Config,
  opts: { newestDeadLetters?: number } = {},
): Promise<StatusReport> {
  const report = emptyReport(
    { url: redactUrl(config.source.url), slot: config.source.slot, publication: config.source.publication },
    config.state.schema,
  );
  report.setUp = true;
  // A source that refuses `status` itself for a reason to fix is shown, not thrown.
  await readSource(crm, config, report).catch((err: unknown) => report.pgProblems.push(ownSourceProblem(err)));
  const missing = await missingStateTables(state);
  if (missing.length > 0) report.problems.push(`state schema "${state.schema}" is missing table ${missing.join(', ')}`);
  report.setUp = report.problems.length === 0;
  if (missing.length > 0) return report;

  if (report.slot) {
    const r = await readRecreations(state);
    Object.assign(report.slot, { recreations: r.recreations, lastRecreatedAt: r.lastRecreatedAt, lastLostReason: r.lastLostReason });
  }
  const held = await readHeld(state);
  if (held.customers > 0) report.held = held;
  report.checkpoint = await readCheckpoint(state, config.source.slot);
  report.queue = await readQueue(state);
  // The 50 newest: what the status page lists (the text view shows the first few).
  report.deadLetters = await readDeadLetters(state, opts.newestDeadLetters ?? 50);
  report.backfill = await readBackfill(state, config);
  report.initialBackfillRequested = (await readInitialBackfillDoc(state.pool))?.status === 'requested';
  const retry = (await getRuntime<BackfillRetryRuntime>(state, BACKFILL_RETRY_DOC))?.value;
  report.initialBackfillRetry = retry?.lastError ? retry : null;
  report.requests = { ...(await requestsInLastMinute(state)), limit: config.carecycle.requestsPerMinute };
  const capture = await readCapture(state);
  const delivery = await readDelivery(state);
  report.capture = { ...capture.value, updatedAt: capture.updatedAt?.toISOString() ?? null };
  report.delivery = { ...delivery.value, updatedAt: delivery.updatedAt?.toISOString() ?? null };
  report.apiKeyRejected = delivery.value.keyRejected;
  report.lastError = newestError(capture.value, delivery.value);
  report.pgProblems.push(
    ...publishedProblems({ capture: capture.value.problem, delivery: delivery.value.problem, backfill: retry?.problem }),
  );
  report.deliveredPerMinute = await deliveredPerMinute(state);
  return report;
}

export { NOT_SET_UP };
