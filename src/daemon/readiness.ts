/**
 * Readiness means "data flows" (docs/architecture.md, "External contract"): the replication stream
 * is connected, the state database answers, our own heartbeat came back through the stream
 * recently, and CareCycle is not rejecting the key. A green /readyz on a stalled daemon is what we
 * refuse to ship.
 */
import { STANDBY, type Readiness } from '../observe/health.js';
import type { CaptureStatus } from '../source/capture.js';
import type { DeliveryStatus } from '../deliver/loop.js';
import type { Problem } from '../errors.js';

export interface ReadinessInputs {
  capture: CaptureStatus;
  delivery: DeliveryStatus;
  stateReachable: { ok: boolean; detail?: string };
  /** Customers whose records the mass-cancellation rail holds (0 when none). */
  heldCustomers: number;
  heartbeatSeconds: number;
  /** When the stream last connected (grace period before the first heartbeat). */
  connectedSince: Date | null;
  now: Date;
  /** Claimed keys waiting this long without a settled batch make delivery "stalled" (ms). */
  stallMs?: number;
  /** Postgres errors only a person can fix that the services are retrying (src/pg/sqlstate.ts). */
  problems?: readonly (Problem | null)[];
}

/** Pure: the check naming each connection's problem, its SQLSTATE and the fix. */
function postgresCheck(problems: readonly (Problem | null)[]) {
  const seen = new Map<string, Problem>();
  for (const p of problems) if (p) seen.set(`${p.path} ${p.code} ${p.message}`, p);
  if (seen.size === 0) return { ok: true, detail: 'no problem to fix reported by Postgres' };
  return { ok: false, detail: [...seen.values()].map((p) => `${p.message}; fix: ${p.fix}`).join(' | ') };
}

/** Pure: the delivery checks. Stalled: keys are waiting and no batch settled for `stallMs`. */
function deliveryChecks(d: ReadinessInputs['delivery'], now: number, stallMs: number) {
  const waitedMs = d.waitingSince === null ? 0 : now - Math.max(d.waitingSince, d.lastProgressAt ?? 0);
  const stalled = waitedMs > stallMs;
  const endpointBlocked = d.blocked !== null && !d.keyRejected;
  return {
    apiKey: { ok: !d.keyRejected, detail: d.keyRejected ? (d.blocked ?? 'CareCycle rejects the API key') : 'accepted or not yet used' },
    endpoint: { ok: !endpointBlocked, detail: endpointBlocked ? (d.blocked as string) : 'no endpoint problem reported' },
    progress: {
      ok: !stalled,
      detail: stalled
        ? `no batch settled for ${Math.round(waitedMs / 1000)} s while keys wait (limit ${stallMs / 1000} s)${d.lastError ? `; last error: ${d.lastError}` : ''}`
        : d.waitingSince === null
          ? 'idle or moving'
          : `keys waiting for ${Math.round(waitedMs / 1000)} s`,
    },
  };
}

/** Pure: the readiness verdict from the services' status. */
export function readinessOf(i: ReadinessInputs): Readiness {
  const c = i.capture;
  const staleAfterMs = i.heartbeatSeconds * 3 * 1000;
  const beatAge = c.lastHeartbeatAt ? i.now.getTime() - c.lastHeartbeatAt.getTime() : null;
  const sinceConnect = i.connectedSince ? i.now.getTime() - i.connectedSince.getTime() : null;
  const heartbeatOk =
    c.connected && ((beatAge !== null && beatAge <= staleAfterMs) || (sinceConnect !== null && sinceConnect <= staleAfterMs));
  const checks = {
    replication: c.isStandby
      ? { ok: false, detail: 'standby: another instance holds the slot', code: STANDBY }
      : { ok: c.connected, detail: c.connected ? 'streaming' : `disconnected${c.lastError ? `: ${c.lastError.message}` : ''}` },
    state: i.stateReachable,
    heartbeat: {
      ok: heartbeatOk,
      detail:
        beatAge === null
          ? 'no heartbeat seen yet'
          : `last heartbeat ${Math.round(beatAge / 1000)} s ago (stale after ${staleAfterMs / 1000} s)`,
    },
    postgres: postgresCheck(i.problems ?? []),
    ...deliveryChecks(i.delivery, i.now.getTime(), i.stallMs ?? 300_000),
    safety: {
      ok: i.heldCustomers === 0,
      detail:
        i.heldCustomers === 0
          ? 'no records held'
          : `${i.heldCustomers} customers held by the mass-cancellation rail: \`carecycle-sync approve\` sends them`,
    },
  };
  return { ready: Object.values(checks).every((ch) => ch.ok), checks };
}
