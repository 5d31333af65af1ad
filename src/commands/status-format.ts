import { scrub } from '../log/secrets.js';
import type { QueueLane, StatusReport } from '../observe/status/collect.js';
import { NOT_SET_UP } from '../observe/status/setup-check.js';
import { formatAgo, formatBytes, formatCount, formatDuration } from '../lib/units.js';

/**
 * The human view of `status`: one screen, aligned labels, human units. Pure (the clock is a
 * parameter) so its wording is unit-tested; every line passes through `scrub`.
 */

const LABEL = 16;
/** The newest dead letters the text view lists (`dead-letters list` shows them all). */
const SHOWN_DEAD_LETTERS = 3;
const row = (label: string, value: string) => `  ${label.padEnd(LABEL)}${value}`;

function lane(l: QueueLane): string {
  if (l.keys === 0) return 'empty';
  const retry = l.retrying > 0 ? `, ${formatCount(l.retrying)} retrying` : '';
  return `${formatCount(l.keys)} key${l.keys === 1 ? '' : 's'}, oldest ${formatDuration(l.oldestAgeMs)}${retry}`;
}

function slotLines(r: StatusReport): string[] {
  const s = r.slot;
  if (!s && r.pgProblems.some((p) => p.component === 'status'))
    return [row('slot', `${r.source.slot}: unknown, the source refuses this status (see "Postgres" above)`)];
  if (!s) return [row('slot', `${r.source.slot}: MISSING`)];
  const state = s.active ? `active${s.activePid ? ` (pid ${s.activePid})` : ''}` : 'inactive (no daemon connected)';
  const limit =
    s.safeWalSizeBytes === null ? 'no max_slot_wal_keep_size' : `${formatBytes(s.safeWalSizeBytes)} before the slot is invalidated`;
  const lost =
    s.walStatus === 'lost' ? '  ← LOST: `run` recreates it and reconciles every customer (unless source.onSlotLost is stop)' : '';
  const out = [
    row('slot', `${s.name}  ${state}  wal_status ${s.walStatus ?? '-'}${lost}`),
    row('lag', `${formatBytes(s.lagBytes)} of WAL not yet confirmed`),
    row('retained WAL', `${formatBytes(s.retainedBytes)} (${limit})`),
  ];
  if (s.recreations)
    out.push(
      row('recreated', `${s.recreations}× after it was lost, last ${s.lastRecreatedAt ?? '?'} (${s.lastLostReason ?? 'unknown reason'})`),
    );
  return out;
}

function captureLine(r: StatusReport, now: Date): string {
  const c = r.capture;
  if (!c || !c.updatedAt) return 'no daemon has reported yet';
  const mode = c.standby ? 'standby (another instance holds the slot)' : c.connected ? 'connected' : 'disconnected';
  return `${mode}, heartbeat ${formatAgo(c.lastHeartbeatAt, now)}, reported ${formatAgo(c.updatedAt, now)}`;
}

function backfillLine(r: StatusReport, now: Date): string {
  const f = r.initialBackfillRetry;
  if (f) {
    const next = f.nextRetryAt ? ` in ${formatDuration(Math.max(0, Date.parse(f.nextRetryAt) - now.getTime()))}` : '';
    return `the initial backfill FAILED ${f.attempts}× (last: ${f.lastError}); the daemon retries it by itself${next}`;
  }
  const b = r.backfill;
  const requested = r.initialBackfillRequested ? 'requested by setup for the new slot: the first `run` backfills every customer' : '';
  if (!b) return requested || 'never run';
  if (requested && b.remaining === 0) return requested;
  const scope = b.where ? ` (where ${b.where})` : '';
  const enq = b.finished ? `enqueued ${formatCount(b.enqueued)}` : `enqueueing ${formatCount(b.enqueued)}/${formatCount(b.total)}`;
  if (b.remaining === 0) return `run ${b.runId}${scope}: done, ${formatCount(b.enqueued)} keys, started ${formatAgo(b.startedAt, now)}`;
  const rate = r.requests ? ` at ${r.requests.limit} req/min` : '';
  return `run ${b.runId}${scope}: ${enq}, ${formatCount(b.pending)} backfill keys pending, delivery ETA ${formatDuration(b.etaMs)}${rate}`;
}

function apiLines(r: StatusReport, now: Date): string[] {
  const q = r.requests;
  const d = r.delivery;
  const lines: string[] = [];
  if (q) {
    const statuses = Object.entries(q.byStatus)
      .map(([s, n]) => `${s === '0' ? 'no response' : s}×${n}`)
      .join(' ');
    lines.push(
      row('requests', `${q.requests}/${q.limit} in the last minute, ${formatCount(q.records)} records${statuses ? `  (${statuses})` : ''}`),
    );
  }
  if (r.apiKeyRejected && d?.keyRefusal === 'forbidden') {
    lines.push(
      row(
        'API key',
        `LACKS PERMISSION (403) ${formatAgo(d.keyRejectedAt, now)}: delivery stopped, changes keep queueing; use a key with the sync permission`,
      ),
    );
  } else if (r.apiKeyRejected)
    lines.push(row('API key', `REJECTED ${formatAgo(d?.keyRejectedAt, now)}: delivery stopped, changes keep queueing`));
  else lines.push(row('API key', d?.lastRequestAt ? 'accepted' : 'not used yet'));
  if (d?.rateLimitedUntil && Date.parse(d.rateLimitedUntil) > now.getTime()) {
    lines.push(row('rate limited', `until ${d.rateLimitedUntil} (429 from CareCycle)`));
  }
  if (d?.lastRequestAt) lines.push(row('last request', formatAgo(d.lastRequestAt, now)));
  return lines;
}

/** What Postgres refuses until someone fixes the config or a grant (src/pg/sqlstate.ts), each with its fix. */
function pgProblemLines(r: StatusReport): string[] {
  if (r.pgProblems.length === 0) return [];
  const lines = ['Postgres: FIX NEEDED (retried by itself meanwhile)'];
  for (const p of r.pgProblems) lines.push(row(p.component, p.message), row('  fix', p.fix ?? `correct ${p.path}`));
  return lines;
}

export function renderStatus(r: StatusReport, now: Date = new Date()): string {
  const out: string[] = [`carecycle-sync status  source ${r.source.url}  state schema ${r.stateSchema}`, ...pgProblemLines(r)];
  if (!r.setUp) {
    out.push(`${NOT_SET_UP}`, ...r.problems.map((p) => `  - ${p}`));
    if (!r.queue) return scrub(out.join('\n') + '\n');
  }
  out.push('Replication', ...slotLines(r));
  out.push(row('confirmed LSN', r.checkpoint ? `${r.checkpoint.lsn}, ${formatDuration(r.checkpoint.ageMs)} ago` : 'none yet'));
  out.push(row('capture', captureLine(r, now)));
  if (r.held) {
    out.push(
      'HELD (mass-cancellation rail)',
      row('held', `${formatCount(r.held.customers)} customers, ${formatCount(r.held.policies)} policies to cancel, since ${r.held.since}`),
      row('what to do', '`carecycle-sync approve --yes` sends them; restoring the CRM rows releases them'),
    );
  }
  if (r.queue) out.push('Queue', row('live', lane(r.queue.live)), row('backfill', lane(r.queue.backfill)));
  if (r.deadLetters) {
    const n = r.deadLetters.count;
    out.push('Dead letters', row('count', `${formatCount(n)}${n > 0 ? '  (carecycle-sync dead-letters list)' : ''}`));
    for (const d of r.deadLetters.newest.slice(0, SHOWN_DEAD_LETTERS)) {
      out.push(row(`key ${d.key}`, `${d.fieldPath ? `${d.fieldPath}: ` : ''}${d.reason}  (${formatAgo(d.lastFailedAt, now)})`));
    }
  }
  out.push('Backfill', row('progress', backfillLine(r, now)));
  out.push('CareCycle', ...apiLines(r, now));
  const e = r.lastError;
  out.push(row('last error', e ? `${e.component} ${formatAgo(e.at, now)}: ${e.message}` : 'none'));
  return scrub(out.join('\n') + '\n');
}
