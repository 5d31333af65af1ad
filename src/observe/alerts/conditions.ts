import { ALERT_EVENTS, type AlertEvent } from '../../config/alert-events.js';
import { STANDBY, type Readiness } from '../health.js';
import type { StatusReport } from '../status/collect.js';

/**
 * The conditions that page a person, as a list: each is a pure check over one observation
 * (the readiness checks and the `status` document). A new condition is one entry here, reading
 * what it needs from the status document, and its name in ALERT_EVENTS
 * (src/config/alert-events.ts), which makes it a valid `alerts.webhooks[].events` entry; the
 * compiler refuses one without the other.
 * Messages carry counts, keys, byte sizes and check names only: never a reason text (it can
 * hold CRM data), a URL with credentials, or the API key.
 */

export interface Observation {
  now: number;
  ready: Readiness;
  /** The status document, or null when it could not be read this time. */
  status: StatusReport | null;
}

export interface AlertsSettings {
  notReadyMinutes: number;
  repeatMinutes: number;
  walRetainedBytes?: number;
}

export interface Verdict {
  summary: string;
  details: Record<string, unknown>;
}

/** Per-condition memory across observations (a baseline, for instance). */
export type Memory = Record<string, number | undefined>;

export interface AlertCondition {
  /** What the message calls it. */
  title: string;
  /** The summary of its "resolved" message. */
  resolved: string;
  /** How long the condition must hold before it fires, ms (default: at once). */
  holdMs?: (s: AlertsSettings) => number;
  /** A verdict while the condition holds, null when it is clear, undefined when unknown this time. */
  check: (o: Observation, s: AlertsSettings, memory: Memory) => Verdict | null | undefined;
}

const isStandby = (r: Readiness) => r.checks.replication?.code === STANDBY;

/** Fires while `value` is above the lowest value seen since it was last clear. */
export function grew(value: number | null | undefined, m: Memory, what: string): Verdict | null | undefined {
  if (value === null || value === undefined) return undefined;
  m.baseline ??= value; // what was there when the daemon started is not news
  if (value <= m.baseline) {
    m.baseline = value;
    return null;
  }
  return { summary: `${what}: ${value}, up from ${m.baseline}`, details: { count: value, previous: m.baseline } };
}

/** Fires once when `value` rose since the last look (a counter's new event); clear at the next look. */
export function increased(value: number | null | undefined, m: Memory, what: string): Verdict | null | undefined {
  if (value === null || value === undefined) return undefined;
  const last = m.last ?? value;
  m.last = value;
  return value > last ? { summary: `${what}: ${value}, up from ${last}`, details: { count: value, previous: last } } : null;
}

export const CONDITIONS = {
  not_ready: {
    title: 'carecycle-sync not ready',
    resolved: 'ready again: data flows',
    holdMs: (s) => s.notReadyMinutes * 60_000,
    check: (o) => {
      // A standby is not ready by design: it waits for the active instance to go away.
      if (o.ready.ready || isStandby(o.ready)) return null;
      const failing = Object.entries(o.ready.checks).filter(([, c]) => !c.ok);
      return {
        summary: `not ready: ${failing.map(([name, c]) => `${name} (${c.detail ?? 'failing'})`).join(', ')}`,
        details: { failing: Object.fromEntries(failing.map(([name, c]) => [name, c.detail ?? null])) },
      };
    },
  },
  api_key_rejected: {
    title: 'CareCycle rejects the API key',
    resolved: 'CareCycle accepts the API key again: queued changes are being sent',
    check: (o) =>
      o.ready.checks.apiKey?.ok === false
        ? {
            summary: 'CareCycle rejects the API key (401/403): nothing is sent, changes keep queueing',
            details: { queued: o.status?.queue?.total ?? null },
          }
        : null,
  },
  dead_letters_growing: {
    title: 'dead letters growing',
    resolved: 'dead letters are back to where they were (retried, discarded or fixed)',
    check: (o, _s, m) => {
      const v = grew(o.status?.deadLetters?.count, m, 'dead letters');
      return v ? { ...v, details: { ...v.details, newestKeys: (o.status?.deadLetters?.newest ?? []).slice(0, 10).map((d) => d.key) } } : v;
    },
  },
  wal_retained: {
    title: 'retained WAL over the limit',
    resolved: 'retained WAL is under alerts.walRetainedBytes again',
    check: (o, s) => {
      if (!s.walRetainedBytes) return null;
      const bytes = o.status?.slot?.retainedBytes;
      if (bytes === null || bytes === undefined) return undefined;
      return bytes > s.walRetainedBytes
        ? {
            summary: `the slot retains ${bytes} bytes of WAL, over alerts.walRetainedBytes ${s.walRetainedBytes}`,
            details: { retainedBytes: bytes, limitBytes: s.walRetainedBytes, slot: o.status?.slot?.name },
          }
        : null;
    },
  },
  slot_recreated: {
    title: 'replication slot recreated',
    resolved: 'no further slot recreation',
    check: (o, _s, m) =>
      increased(o.status?.slot?.recreations, m, 'the replication slot was lost and recreated (a backfill follows); recreations'),
  },
  hold_started: {
    title: 'records held (mass cancellation)',
    resolved: 'nothing is held any more',
    check: (o) =>
      !o.status
        ? undefined
        : o.status.held
          ? {
              summary: `${o.status.held.customers} customers held: they would cancel or terminate ${o.status.held.policies} policies; fix the CRM or run carecycle-sync approve`,
              details: { customers: o.status.held.customers, policies: o.status.held.policies, since: o.status.held.since },
            }
          : null,
  },
} satisfies Record<AlertEvent, AlertCondition>;

export { ALERT_EVENTS, type AlertEvent };
