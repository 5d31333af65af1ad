/**
 * Pure rendering of a DemoSnapshot: the panel redrawn on a terminal, and the one-line summary
 * printed when stdout is not a terminal (and once more at exit). The line is `key=value` pairs,
 * so a log reader or a test can pick numbers out of it.
 */
import type { ChangeKind } from './changes.js';
import type { DemoSnapshot } from './stats.js';

const n = (x: number) => x.toLocaleString('en-US');

export function formatBytes(b: number | null): string {
  if (b === null) return '–';
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} kB`;
  return `${(b / 1024 / 1024).toFixed(1)} MB`;
}

export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (v: number) => String(v).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}` : `${pad(Math.floor(s / 60))}:${pad(s % 60)}`;
}

const KIND_LABELS: Record<ChangeKind, string> = {
  'insert-customer': 'new customers',
  'update-mapped': 'mapped updates',
  'update-unmapped': 'notes only',
  'policy-status': 'policy status',
  'policy-delete': 'policy deletes',
  'customer-soft-delete': 'soft deletes',
  'phone-added': 'extra phones',
  'bad-row': 'bad rows',
  'field-cleared': 'cleared fields',
};

function changesLine(s: DemoSnapshot): string {
  const parts = (Object.keys(KIND_LABELS) as ChangeKind[])
    .filter((k) => s.changes.byKind[k] > 0)
    .map((k) => `${n(s.changes.byKind[k])} ${KIND_LABELS[k]}`);
  const failed = s.changes.failed ? `, ${n(s.changes.failed)} failed (${s.changes.lastError ?? ''})` : '';
  return `${n(s.changes.total)}${parts.length ? ` (${parts.join(', ')})` : ''}${failed}`;
}

function backfillText(s: DemoSnapshot): string {
  if (s.backfillTotal === null && s.backfillEnqueued === 0) return 'backfill not started';
  const total = s.backfillTotal ?? s.backfillEnqueued;
  return `backfill enqueued ${n(s.backfillEnqueued)}/${n(total)}`;
}

const clip = (line: string, width: number) => (line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line);

/** The terminal panel, one string per line, each at most `width` characters. */
export function renderPanel(s: DemoSnapshot, width = 100): string[] {
  const label = (l: string) => `  ${l.padEnd(20)}`;
  const lines = [
    `carecycle-sync demo   ${formatElapsed(s.elapsedMs)}   ${s.stopped ? 'stopped' : `capture ${s.captureConnected ? 'streaming' : 'connecting…'}   Ctrl-C stops and cleans up`}`,
    '─'.repeat(Math.min(width, 78)),
    `${label('CareCycle stand-in')}${n(s.standInCustomers)} customers, ${n(s.standInPolicies)} policies`,
    `${label('delivered')}${n(s.delivered)} records`,
    `${label('skipped')}${n(s.skipped)} unchanged (same record as last sent)`,
    `${label('dead-lettered')}${n(s.deadLettered)} (${n(s.deadLetterRows)} customers in dead_letters)`,
    ...s.latestDeadLetters.map((d) => `${label('')}  customer ${d.key}: ${d.reason}`),
    `${label('queue')}live ${n(s.queueLive)}, backfill ${n(s.queueBackfill)}; ${backfillText(s)}`,
    `${label('slot lag')}${formatBytes(s.slotLagBytes)} of WAL not yet confirmed`,
    `${label('requests')}${n(s.requestsLastMinute)} in the last minute (limit ${n(s.rpmLimit)}), ${n(s.requestsTotal)} in all`,
    `${label('changes made')}${changesLine(s)}`,
  ];
  if (s.warnings.length > 0) {
    lines.push(`${label('daemon warnings')}`);
    for (const w of s.warnings.slice(-3)) lines.push(`    ${w}`);
  }
  return lines.map((l) => clip(l, width));
}

/** One line of `key=value` figures (non-terminal output and the final summary). */
export function summaryLine(s: DemoSnapshot): string {
  return [
    `demo t=${Math.round(s.elapsedMs / 1000)}s`,
    `standin_customers=${s.standInCustomers}`,
    `standin_policies=${s.standInPolicies}`,
    `delivered=${s.delivered}`,
    `skipped=${s.skipped}`,
    `dead_lettered=${s.deadLettered}`,
    `queue_live=${s.queueLive}`,
    `queue_backfill=${s.queueBackfill}`,
    `backfill_enqueued=${s.backfillEnqueued}`,
    `slot_lag_bytes=${s.slotLagBytes ?? -1}`,
    `requests_last_minute=${s.requestsLastMinute}/${s.rpmLimit}`,
    `changes=${s.changes.total}`,
    `inserts=${s.changes.byKind['insert-customer']}`,
    `soft_deletes=${s.changes.byKind['customer-soft-delete']}`,
    `bad_rows=${s.changes.byKind['bad-row']}`,
  ].join(' ');
}
