/**
 * Readiness means "data flows" (pitfalls #3): the replication stream is connected, the state
 * database answers, our own heartbeat came back through the stream recently, and CareCycle is
 * not rejecting the key. A green /readyz on a stalled daemon is what we refuse to ship.
 */
import type { Readiness } from '../ops/health.js';
import type { CaptureStatus } from '../source/capture.js';
import type { DeliveryStatus } from '../deliver/loop.js';

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
}

/** Pure: the readiness verdict from the services' status. */
export function readinessOf(i: ReadinessInputs): Readiness {
  const c = i.capture;
  const staleAfterMs = i.heartbeatSeconds * 3 * 1000;
  const beatAge = c.lastHeartbeatAt ? i.now.getTime() - c.lastHeartbeatAt.getTime() : null;
  const sinceConnect = i.connectedSince ? i.now.getTime() - i.connectedSince.getTime() : null;
  const heartbeatOk = c.connected && ((beatAge !== null && beatAge <= staleAfterMs) || (sinceConnect !== null && sinceConnect <= staleAfterMs));
  const checks = {
    replication: c.isStandby
      ? { ok: false, detail: 'standby: another instance holds the slot' }
      : { ok: c.connected, detail: c.connected ? 'streaming' : `disconnected${c.lastError ? `: ${c.lastError.message}` : ''}` },
    state: i.stateReachable,
    heartbeat: {
      ok: heartbeatOk,
      detail: beatAge === null ? 'no heartbeat seen yet' : `last heartbeat ${Math.round(beatAge / 1000)} s ago (stale after ${staleAfterMs / 1000} s)`,
    },
    apiKey: { ok: !i.delivery.keyRejected, detail: i.delivery.keyRejected ? 'CareCycle rejects the API key' : 'accepted or not yet used' },
    safety: {
      ok: i.heldCustomers === 0,
      detail: i.heldCustomers === 0 ? 'no records held' : `${i.heldCustomers} customers held by the mass-cancellation rail: \`carecycle-sync approve\` sends them`,
    },
  };
  return { ready: Object.values(checks).every((ch) => ch.ok), checks };
}
