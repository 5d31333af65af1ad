import { describe, it, expect } from 'vitest';
import { formatAgo, formatBytes, formatDuration } from '../../src/lib/units.js';
import { renderStatus } from '../../src/commands/status-format.js';
import { newestError, type StatusReport } from '../../src/observe/status/collect.js';
import { CAPTURE_DEFAULTS, DELIVERY_DEFAULTS } from '../../src/state/runtime.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

function report(patch: Partial<StatusReport> = {}): StatusReport {
  return {
    setUp: true,
    problems: [],
    source: { url: 'postgres://app:[REDACTED]@db/crm', slot: 'carecycle_sync', publication: 'carecycle_sync' },
    stateSchema: 'carecycle_sync',
    slot: {
      name: 'carecycle_sync',
      active: true,
      activePid: 4242,
      walStatus: 'reserved',
      confirmedFlushLsn: '0/16B3748',
      restartLsn: '0/16B0000',
      lagBytes: 12_288,
      retainedBytes: 3 * 1024 * 1024,
      safeWalSizeBytes: null,
    },
    checkpoint: { lsn: '0/16B3748', updatedAt: ago(3), ageMs: 3000 },
    queue: {
      live: { keys: 3, oldestAgeMs: 2000, retrying: 1 },
      backfill: { keys: 120_000, oldestAgeMs: 300_000, retrying: 0 },
      total: 120_003,
    },
    deadLetters: {
      count: 1,
      newest: [{ key: '42', reason: 'required', fieldPath: 'phoneNumber', lastFailedAt: ago(180) }],
      topReasons: [{ reason: 'required', fieldPath: 'phoneNumber', count: 1 }],
    },
    backfill: {
      runId: '3',
      where: null,
      enqueued: 250_000,
      total: 250_000,
      finished: true,
      pending: 120_000,
      remaining: 120_000,
      etaMs: 20 * 60_000,
      startedAt: ago(3600),
    },
    initialBackfillRequested: false,
    initialBackfillRetry: null,
    requests: { requests: 58, records: 5800, byStatus: { '200': 58 }, limit: 60 },
    capture: { ...CAPTURE_DEFAULTS, connected: true, lastHeartbeatAt: ago(12), updatedAt: ago(1) },
    delivery: { ...DELIVERY_DEFAULTS, lastRequestAt: ago(1), updatedAt: ago(1) },
    apiKeyRejected: false,
    deliveredPerMinute: null,
    lastError: null,
    pgProblems: [],
    ...patch,
  };
}

describe('status view', () => {
  it('uses human units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(12_288)).toBe('12 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
    expect(formatDuration(42 * 60_000)).toBe('42m');
    expect(formatDuration(200_000)).toBe('3m 20s');
    expect(formatDuration(3_900_000)).toBe('1h 05m');
    expect(formatAgo(ago(180), NOW)).toBe('3m ago');
    expect(formatAgo(null, NOW)).toBe('never');
  });

  it('shows one aligned screen', () => {
    const text = renderStatus(report(), NOW);
    expect(text).toContain('  slot            carecycle_sync  active (pid 4242)  wal_status reserved');
    expect(text).toContain('  lag             12 KB of WAL not yet confirmed');
    expect(text).toContain('  retained WAL    3.0 MB (no max_slot_wal_keep_size)');
    expect(text).toContain('  confirmed LSN   0/16B3748, 3s ago');
    expect(text).toContain('  capture         connected, heartbeat 12s ago');
    expect(text).toContain('  live            3 keys, oldest 2s, 1 retrying');
    expect(text).toContain('  backfill        120,000 keys, oldest 5m');
    expect(text).toContain('  key 42          phoneNumber: required  (3m ago)');
    expect(text).toContain('run 3: enqueued 250,000, 120,000 backfill keys pending, delivery ETA 20m at 60 req/min');
    expect(text).toContain('  requests        58/60 in the last minute, 5,800 records  (200×58)');
    expect(text.split('\n').length).toBeLessThan(30);
  });

  it('shows each Postgres problem to fix with its connection, SQLSTATE and fix; a source that refuses status leaves the slot unknown', () => {
    const problem = {
      severity: 'error' as const,
      path: 'source.url',
      message: 'source connection: password authentication failed for user "crm" (SQLSTATE 28P01 invalid_password)',
      fix: 'the password in source.url (DATABASE_URL) is wrong',
      code: '28P01',
    };
    const text = renderStatus(report({ pgProblems: [{ ...problem, component: 'capture' }] }), NOW);
    expect(text).toContain('Postgres: FIX NEEDED');
    expect(text).toMatch(/capture +source connection: password authentication failed .*28P01/);
    expect(text).toMatch(/fix +the password in source.url/);
    const own = renderStatus(report({ slot: null, pgProblems: [{ ...problem, component: 'status' }] }), NOW);
    expect(own).toContain('unknown, the source refuses this status');
    expect(own).not.toContain('MISSING');
  });

  it('tells a key that lacks permission (403) from a rejected one (401)', () => {
    const delivery = { ...DELIVERY_DEFAULTS, keyRejected: true, keyRejectedAt: ago(60), updatedAt: ago(1) };
    expect(renderStatus(report({ apiKeyRejected: true, delivery: { ...delivery, keyRefusal: 'forbidden' } }), NOW)).toContain(
      'LACKS PERMISSION (403)',
    );
    const rejected = renderStatus(report({ apiKeyRejected: true, delivery: { ...delivery, keyRefusal: 'unauthorized' } }), NOW);
    expect(rejected).toContain('REJECTED');
    expect(rejected).not.toContain('LACKS PERMISSION');
  });

  it('says when the initial backfill fails and that the daemon retries it', () => {
    const retry = {
      lastError: 'connection terminated unexpectedly',
      lastErrorAt: ago(2),
      attempts: 3,
      nextRetryAt: new Date(NOW.getTime() + 4000).toISOString(),
    };
    const text = renderStatus(report({ backfill: null, initialBackfillRetry: retry }), NOW);
    expect(text).toContain(
      'the initial backfill FAILED 3× (last: connection terminated unexpectedly); the daemon retries it by itself in 4s',
    );
  });

  it('shouts about a lost slot and a rejected key, and never prints a key or password', () => {
    const text = renderStatus(
      report({
        slot: { ...report().slot!, walStatus: 'lost', active: false },
        apiKeyRejected: true,
        delivery: { ...DELIVERY_DEFAULTS, keyRejected: true, keyRejectedAt: ago(60), updatedAt: ago(1) },
        lastError: newestError(
          { ...CAPTURE_DEFAULTS, lastError: 'old', lastErrorAt: ago(600) },
          { ...DELIVERY_DEFAULTS, lastError: 'HTTP 401 with key cc_live_abcdef123 via postgres://u:hunter2@h/db', lastErrorAt: ago(60) },
        ),
      }),
      NOW,
    );
    expect(text).toContain('LOST: `run` recreates it and reconciles every customer');
    expect(text).toContain('REJECTED 1m ago');
    expect(text).toMatch(/last error\s+delivery 1m ago: HTTP 401/);
    expect(text).not.toContain('cc_live_abcdef123');
    expect(text).not.toContain('hunter2');
  });

  it('says what to do when not set up', () => {
    const text = renderStatus(report({ setUp: false, problems: ['replication slot "x" does not exist'], queue: null, slot: null }), NOW);
    expect(text).toContain('not set up: run carecycle-sync setup');
    expect(text).toContain('  - replication slot "x" does not exist');
  });
});
