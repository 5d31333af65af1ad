import { describe, expect, it } from 'vitest';
import { readinessOf, type ReadinessInputs } from '../../src/daemon/readiness.js';
import { initialStatus } from '../../src/source/status.js';

/** /readyz's verdict, check by check: each failing input alone must turn readiness false. */
const NOW = new Date('2025-03-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

/** A healthy daemon: streaming for 10 min, heartbeat every 30 s, last one 20 s ago. */
function inputs(
  patch: { capture?: Partial<ReadinessInputs['capture']>; delivery?: Partial<ReadinessInputs['delivery']> } & Partial<
    Omit<ReadinessInputs, 'capture' | 'delivery'>
  > = {},
): ReadinessInputs {
  const { capture, delivery, ...rest } = patch;
  return {
    capture: { ...initialStatus('s'), connected: true, lastHeartbeatAt: ago(20), ...capture },
    delivery: {
      keyRejected: false,
      blocked: null,
      waitingSince: null,
      lastProgressAt: null,
      lastError: null,
      problem: null,
      delivered: 0,
      skipped: 0,
      deadLettered: 0,
      batches: 0,
      ...delivery,
    },
    stateReachable: { ok: true },
    heldCustomers: 0,
    heartbeatSeconds: 30,
    connectedSince: ago(600),
    now: NOW,
    ...rest,
  };
}

const failing = (r: ReturnType<typeof readinessOf>) =>
  Object.entries(r.checks)
    .filter(([, c]) => !c.ok)
    .map(([k]) => k)
    .sort();

describe('readinessOf', () => {
  it('is not ready while the mass-cancellation rail holds records', () => {
    const r = readinessOf(inputs({ heldCustomers: 12 }));
    expect(failing(r)).toEqual(['safety']);
    expect(r.checks.safety!.detail).toContain('carecycle-sync approve');
  });

  it('is ready when every check passes, and names the eight checks', () => {
    const r = readinessOf(inputs());
    expect(r.ready).toBe(true);
    expect(Object.keys(r.checks).sort()).toEqual([
      'apiKey',
      'endpoint',
      'heartbeat',
      'postgres',
      'progress',
      'replication',
      'safety',
      'state',
    ]);
    expect(r.checks.heartbeat!.detail).toBe('last heartbeat 20 s ago (stale after 90 s)');
  });

  it('a disconnected stream fails replication (with the last error) and heartbeat', () => {
    const r = readinessOf(
      inputs({
        capture: { connected: false, lastError: { message: 'connect ECONNREFUSED 127.0.0.1:5432', at: ago(1) } },
        connectedSince: null,
      }),
    );
    expect(r.ready).toBe(false);
    expect(failing(r)).toEqual(['heartbeat', 'replication']);
    expect(r.checks.replication!.detail).toBe('disconnected: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('a standby (another instance holds the slot) is not ready', () => {
    const r = readinessOf(inputs({ capture: { isStandby: true } }));
    expect(failing(r)).toContain('replication');
    expect(r.checks.replication).toMatchObject({ code: 'standby', detail: expect.stringMatching(/standby/) });
  });

  it('an unreachable state database fails only the state check, with its reason', () => {
    const r = readinessOf(inputs({ stateReachable: { ok: false, detail: 'Connection terminated unexpectedly' } }));
    expect(r.ready).toBe(false);
    expect(failing(r)).toEqual(['state']);
    expect(r.checks.state!.detail).toBe('Connection terminated unexpectedly');
  });

  it('a Postgres problem to fix fails the postgres check, naming the connection, the SQLSTATE and the fix', () => {
    const problem = {
      severity: 'error' as const,
      path: 'source.url',
      message: 'replication connection: password authentication failed for user "crm" (SQLSTATE 28P01 invalid_password)',
      fix: 'the password in source.url (DATABASE_URL) is wrong',
      code: '28P01',
    };
    const r = readinessOf(inputs({ capture: { problem }, problems: [problem, null, problem] }));
    expect(r.ready).toBe(false);
    expect(failing(r)).toEqual(['postgres']);
    expect(r.checks.postgres!.detail).toBe(`${problem.message}; fix: ${problem.fix}`);
  });

  it('a rejected API key fails only the apiKey check', () => {
    const r = readinessOf(inputs({ delivery: { keyRejected: true } }));
    expect(r.ready).toBe(false);
    expect(failing(r)).toEqual(['apiKey']);
  });

  it('a key without permission is reported as such; an endpoint problem fails its own check', () => {
    const forbidden = readinessOf(
      inputs({ delivery: { keyRejected: true, blocked: 'CareCycle accepted the API key but it lacks permission for POST /v2/sync/aca' } }),
    );
    expect(failing(forbidden)).toEqual(['apiKey']);
    expect(forbidden.checks.apiKey!.detail).toMatch(/lacks permission/);
    const proxy = readinessOf(
      inputs({ delivery: { blocked: "CareCycle answered HTTP 400 for POST /v2/sync/aca: not CareCycle's validation answer" } }),
    );
    expect(failing(proxy)).toEqual(['endpoint']);
    expect(proxy.checks.endpoint!.detail).toMatch(/HTTP 400/);
  });

  it('delivery that settles nothing while keys wait turns not ready after the configured time', () => {
    const stuck = (s: number) =>
      inputs({ delivery: { waitingSince: NOW.getTime() - s * 1000, lastError: 'subquery returned more than one row' }, stallMs: 120_000 });
    expect(readinessOf(stuck(119)).ready).toBe(true);
    const r = readinessOf(stuck(121));
    expect(failing(r)).toEqual(['progress']);
    expect(r.checks.progress!.detail).toBe(
      'no batch settled for 121 s while keys wait (limit 120 s); last error: subquery returned more than one row',
    );
    // Idle (nothing claimed) is never stalled, however long ago the last batch was.
    expect(readinessOf(inputs({ delivery: { waitingSince: null, lastProgressAt: NOW.getTime() - 86_400_000 }, stallMs: 1000 })).ready).toBe(
      true,
    );
  });

  it('the heartbeat turns stale after three intervals, not before', () => {
    expect(readinessOf(inputs({ capture: { lastHeartbeatAt: ago(90) } })).ready).toBe(true);
    const stale = readinessOf(inputs({ capture: { lastHeartbeatAt: ago(91) } }));
    expect(stale.ready).toBe(false);
    expect(failing(stale)).toEqual(['heartbeat']);
    expect(stale.checks.heartbeat!.detail).toBe('last heartbeat 91 s ago (stale after 90 s)');
    // The interval is the configured one: with 1 s heartbeats, 4 s without one is stale.
    expect(readinessOf(inputs({ heartbeatSeconds: 1, capture: { lastHeartbeatAt: ago(4) } })).ready).toBe(false);
    expect(readinessOf(inputs({ heartbeatSeconds: 1, capture: { lastHeartbeatAt: ago(2) } })).ready).toBe(true);
  });

  it('gives a fresh connection the same grace before its first heartbeat, then fails', () => {
    const fresh = { capture: { lastHeartbeatAt: null }, connectedSince: ago(5) };
    expect(readinessOf(inputs(fresh)).ready).toBe(true);
    expect(readinessOf(inputs(fresh)).checks.heartbeat!.detail).toBe('no heartbeat seen yet');
    const never = readinessOf(inputs({ capture: { lastHeartbeatAt: null }, connectedSince: ago(91) }));
    expect(failing(never)).toEqual(['heartbeat']);
  });

  it('a reconnect gets the grace period even though the last heartbeat is old', () => {
    // Down for 5 minutes, reconnected 10 s ago: the first heartbeat is still on its way.
    expect(readinessOf(inputs({ capture: { lastHeartbeatAt: ago(300) }, connectedSince: ago(10) })).ready).toBe(true);
    expect(readinessOf(inputs({ capture: { lastHeartbeatAt: ago(300) }, connectedSince: ago(100) })).ready).toBe(false);
  });

  it('a heartbeat never counts while disconnected, however recent', () => {
    const r = readinessOf(inputs({ capture: { connected: false, lastHeartbeatAt: ago(1) }, connectedSince: null }));
    expect(r.checks.heartbeat!.ok).toBe(false);
  });
});
