import type { Readiness } from '../health.js';
import type { StatusReport } from '../status/collect.js';

/**
 * The status page's body, rendered from the `status` document and the readiness checks. The
 * same functions run on the server (the HTML that `curl` or a screen reader gets) and in the
 * browser (the page re-renders itself from /status.json): page.ts ships their source text to
 * the browser. So they must stay self-contained: they call only each other, the formatters
 * passed in `f`, and JavaScript built-ins; no module-level constants, no imports at run time.
 * Every text that comes from the document goes through `esc` (a reason can hold CRM text).
 */

export interface Fmt {
  bytes(n: number | null | undefined): string;
  count(n: number | null | undefined): string;
  duration(ms: number | null | undefined): string;
  ago(at: string | null | undefined, now: Date): string;
}

export interface ViewOptions {
  /** An admin token is configured: show the dead-letter buttons. */
  actions: boolean;
  /** The clock, ms since the epoch. */
  now: number;
}

export type DaemonState = 'running' | 'standby' | 'not ready' | 'not set up';

/** HTML-escapes any value (numeric entities for & < > " '). */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** running / standby / not ready (and why) / not set up. */
export function stateOf(s: StatusReport, r: Readiness): { state: DaemonState; why: string[] } {
  const replication = r.checks.replication;
  // The code's value is spelled out: this function also runs in the browser, without imports (health.ts STANDBY).
  if (replication?.code === 'standby') {
    return { state: 'standby', why: ['another instance holds the slot; this one waits to take over'] };
  }
  const failing = Object.entries(r.checks)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `${name}: ${c.detail ?? 'failing'}`);
  if (!r.ready) return { state: 'not ready', why: [...failing, ...s.problems] };
  if (!s.setUp) return { state: 'not set up', why: s.problems };
  return { state: 'running', why: [] };
}

/** An inline SVG line of `values` (oldest first), scaled to its own maximum. */
export function sparkline(values: number[], w: number, h: number, label: string): string {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`).join(' ');
  return (
    `<svg class="spark" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}">` +
    `<polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`
  );
}

/** A figure the tests and scripts can find by its `data-m` name. */
export function metric(name: string, text: string): string {
  return `<b data-m="${esc(name)}">${esc(text)}</b>`;
}

/** A titled card of label → HTML rows (the HTML must already be escaped). */
export function card(title: string, rows: [string, string][], extra = ''): string {
  const dl = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('');
  return `<section class="card"><h2>${esc(title)}</h2><dl>${dl}</dl>${extra}</section>`;
}

export function replicationCard(s: StatusReport, f: Fmt, now: Date): string {
  const slot = s.slot;
  const c = s.capture;
  const capture =
    !c || !c.updatedAt
      ? 'no daemon has reported yet'
      : `${c.standby ? 'standby' : c.connected ? 'connected' : 'disconnected'}, heartbeat ${f.ago(c.lastHeartbeatAt, now)}`;
  if (!slot)
    return card('Replication', [
      ['slot', `${esc(s.source.slot)}: <strong class="bad">missing</strong>`],
      ['capture', esc(capture)],
    ]);
  const limit =
    slot.safeWalSizeBytes === null ? 'no max_slot_wal_keep_size' : `${f.bytes(slot.safeWalSizeBytes)} before the slot is invalidated`;
  const rows: [string, string][] = [
    ['slot', `${esc(slot.name)}, ${slot.active ? 'active' : 'inactive'}, wal_status ${metric('wal-status', slot.walStatus ?? '-')}`],
    ['slot lag', `${metric('slot-lag', f.bytes(slot.lagBytes))} not yet confirmed`],
    ['retained WAL', `${metric('retained-wal', f.bytes(slot.retainedBytes))} (${esc(limit)})`],
    [
      'confirmed LSN',
      s.checkpoint ? `${metric('confirmed-lsn', s.checkpoint.lsn)}, ${esc(f.duration(s.checkpoint.ageMs))} ago` : 'none yet',
    ],
    ['capture', esc(capture)],
  ];
  if (slot.recreations) {
    rows.push([
      'recreated',
      `<strong class="bad">${metric('slot-recreations', f.count(slot.recreations))}×</strong> after it was lost, last ${esc(f.ago(slot.lastRecreatedAt, now))} (${esc(slot.lastLostReason ?? 'unknown reason')})`,
    ]);
  }
  return card('Replication', rows);
}

export function queueCard(s: StatusReport, f: Fmt): string {
  const q = s.queue;
  if (!q) return card('Queue', [['queue', 'not set up']]);
  const ages = [q.live.oldestAgeMs, q.backfill.oldestAgeMs].filter((a): a is number => a !== null);
  return card('Queue', [
    ['live', `${metric('queue-live', f.count(q.live.keys))} customers`],
    ['backfill', `${metric('queue-backfill', f.count(q.backfill.keys))} customers`],
    ['oldest entry', metric('queue-oldest', ages.length ? f.duration(Math.max(...ages)) : '-')],
    ['retrying', metric('queue-retrying', f.count(q.live.retrying + q.backfill.retrying))],
  ]);
}

export function deliveryCard(s: StatusReport, f: Fmt, now: Date): string {
  const q = s.requests;
  const d = s.delivery;
  const series = s.deliveredPerMinute ?? [];
  const hour = series.reduce((a, b) => a + b, 0);
  const label = `records delivered per minute over the last hour: ${hour} in all, ${series.at(-1) ?? 0} this minute`;
  const key = s.apiKeyRejected
    ? `<strong class="bad">REJECTED</strong> ${esc(f.ago(d?.keyRejectedAt, now))}: nothing is sent, changes keep queueing`
    : d?.lastRequestAt
      ? 'accepted'
      : 'not used yet';
  return card('Delivery', [
    [
      'requests',
      q ? `${metric('requests', f.count(q.requests))} of ${metric('requests-limit', f.count(q.limit))} in the last minute` : '-',
    ],
    ['records', q ? `${metric('records-minute', f.count(q.records))} in the last minute` : '-'],
    ['last hour', `${sparkline(series, 240, 36, label)} ${metric('records-hour', f.count(hour))}`],
    ['API key', key],
    ['last request', esc(f.ago(d?.lastRequestAt, now))],
  ]);
}

export function backfillCard(s: StatusReport, f: Fmt, now: Date): string {
  const retry = s.initialBackfillRetry;
  if (retry) {
    const next = retry.nextRetryAt
      ? `; next try ${esc(f.duration(Math.max(0, Date.parse(retry.nextRetryAt) - now.getTime())))} from now`
      : '';
    return card('Backfill', [
      [
        'initial backfill',
        `<strong class="bad">failed ${esc(f.count(retry.attempts))}×</strong> (${esc(retry.lastError)}); the daemon retries it by itself${next}`,
      ],
    ]);
  }
  const b = s.backfill;
  if (!b)
    return card('Backfill', [['progress', s.initialBackfillRequested ? 'requested: the first run backfills every customer' : 'never run']]);
  const pct = b.total ? Math.min(100, Math.round((100 * (b.enqueued - b.pending)) / b.total)) : null;
  return card('Backfill', [
    ['run', `${esc(b.runId)}${b.where ? ` where ${esc(b.where)}` : ''}, started ${esc(f.ago(b.startedAt, now))}`],
    [
      'enqueued',
      `${metric('backfill-enqueued', f.count(b.enqueued))} of ${metric('backfill-total', f.count(b.total))}${b.finished ? '' : ' (enqueueing)'}`,
    ],
    ['remaining', `${metric('backfill-remaining', f.count(b.remaining))}${pct === null ? '' : ` (${pct}% delivered)`}`],
    ['ETA', b.remaining === 0 ? 'done' : metric('backfill-eta', f.duration(b.etaMs))],
  ]);
}

export function deadLettersCard(s: StatusReport, f: Fmt, o: ViewOptions): string {
  const dl = s.deadLetters;
  if (!dl) return card('Dead letters', [['count', '-']]);
  const now = new Date(o.now);
  const reasons = dl.topReasons
    .map((r) => `<tr><td>${esc(r.fieldPath ?? '-')}</td><td>${esc(r.reason)}</td><td class="n">${esc(f.count(r.count))}</td></tr>`)
    .join('');
  const box = (key: string) => (o.actions ? `<td><input type="checkbox" data-key="${esc(key)}" aria-label="select ${esc(key)}"></td>` : '');
  const rows = dl.newest
    .map(
      (d) =>
        `<tr data-dead="${esc(d.key)}">${box(d.key)}<td>${esc(d.key)}</td><td>${esc(d.fieldPath ?? '-')}</td><td>${esc(d.reason)}</td><td>${esc(f.ago(d.lastFailedAt, now))}</td></tr>`,
    )
    .join('');
  const buttons =
    o.actions && dl.count > 0
      ? '<p class="actions"><button data-action="dead-letters/retry">Retry selected</button> <button data-action="dead-letters/discard">Discard selected</button> ' +
        '<button data-action="dead-letters/retry" data-all>Retry all</button> <button data-action="dead-letters/discard" data-all>Discard all</button></p>'
      : '';
  const tables =
    dl.count === 0
      ? ''
      : `<h3>Most common reasons</h3><table><thead><tr><th>field</th><th>reason</th><th>count</th></tr></thead><tbody>${reasons}</tbody></table>` +
        `<h3>Latest ${esc(f.count(dl.newest.length))}</h3><table id="dead-letters"><thead><tr>${o.actions ? '<th></th>' : ''}<th>key</th><th>field</th><th>reason</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table>${buttons}`;
  return `<section class="card wide"><h2>Dead letters</h2><dl><dt>count</dt><dd>${metric('dead-letters', f.count(dl.count))}</dd></dl>${tables}</section>`;
}

export function errorsCard(s: StatusReport, f: Fmt, now: Date): string {
  const rows: [string, string][] = [];
  if (s.capture?.lastError) rows.push(['capture', `${esc(f.ago(s.capture.lastErrorAt, now))}: ${esc(s.capture.lastError)}`]);
  if (s.delivery?.lastError) rows.push(['delivery', `${esc(f.ago(s.delivery.lastErrorAt, now))}: ${esc(s.delivery.lastError)}`]);
  return card('Last errors', rows.length ? rows : [['errors', 'none']]);
}

/** What the mass-cancellation rail holds, with the approve button when actions are enabled. */
export function heldCard(s: StatusReport, f: Fmt, o: ViewOptions): string {
  const h = s.held;
  if (!h) return '';
  const button = o.actions ? '<p class="actions"><button data-action="approve" data-all>Approve: send the held records</button></p>' : '';
  return card(
    'Held: mass cancellation',
    [
      [
        'held',
        `<strong class="bad">${metric('held-customers', f.count(h.customers))} customers</strong>, ${metric('held-policies', f.count(h.policies))} policies to cancel or terminate`,
      ],
      ['since', esc(f.ago(h.since, new Date(o.now)))],
      ['why', esc(h.reason ?? '-')],
      ['to release', 'fix the CRM (restored records go by themselves), or approve: carecycle-sync approve --yes'],
    ],
    button,
  );
}

/** The whole body: state, why, and the cards. */
export function renderMain(s: StatusReport, r: Readiness, o: ViewOptions, f: Fmt): string {
  const now = new Date(o.now);
  const st = stateOf(s, r);
  const cls = st.state === 'running' ? 'ok' : st.state === 'standby' ? 'warn' : 'bad';
  const why = st.why.length ? `<ul class="why">${st.why.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  const head =
    `<header class="state"><span class="badge ${cls}" data-m="state">${esc(st.state)}</span> ` +
    `<span>source ${esc(s.source.url)}, slot ${esc(s.source.slot)}, state schema ${esc(s.stateSchema)}; as of ${esc(now.toISOString().slice(11, 19))} UTC</span>${why}</header>`;
  const cards = [
    heldCard(s, f, o),
    replicationCard(s, f, now),
    queueCard(s, f),
    deliveryCard(s, f, now),
    backfillCard(s, f, now),
    errorsCard(s, f, now),
    deadLettersCard(s, f, o),
  ];
  return `${head}<div class="grid">${cards.join('')}</div>`;
}

/** The functions above, in an order the browser can define them in (page.ts ships them). */
export const VIEW_FUNCTIONS = [
  esc,
  stateOf,
  sparkline,
  metric,
  card,
  heldCard,
  replicationCard,
  queueCard,
  deliveryCard,
  backfillCard,
  deadLettersCard,
  errorsCard,
  renderMain,
];
