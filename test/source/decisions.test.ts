import { describe, it, expect } from 'vitest';
import {
  backoffMs,
  flushCheckpoint,
  flushReason,
  keepaliveConfirm,
  nextFlushCheckMs,
  statusIntervalMs,
  type FlushInputs,
  type KeepaliveInputs,
} from '../../src/source/decisions.js';
import { formatLsn, parseLsn } from '../../src/source/lsn.js';

describe('LSN text', () => {
  it('compares padded and unpadded forms by value, not as strings', () => {
    expect(parseLsn('00000002/02C3EDB0')).toBe(parseLsn('2/2C3EDB0'));
    // As strings "9/..." > "10/..." — as LSNs it is the other way round.
    expect(parseLsn('9/FFFFFFFF') < parseLsn('A/0')).toBe(true);
    expect(parseLsn(null)).toBe(0n);
    expect(formatLsn(parseLsn('00000002/02C3EDB0'))).toBe('2/2C3EDB0');
    expect(() => parseLsn('nope')).toThrow(/not an LSN/);
  });
});

const flush = (o: Partial<FlushInputs>): FlushInputs => ({
  bufferedKeys: 0,
  bufferedTruncate: false,
  maxKeys: 5000,
  sinceLastFlushMs: 0,
  intervalMs: 200,
  lastCommit: 100n,
  durable: 100n,
  persisted: 100n,
  flushing: false,
  ...o,
});

describe('flushReason', () => {
  it('flushes a full buffer at once, and a non-empty one when the interval passed', () => {
    expect(flushReason(flush({ bufferedKeys: 5000 }))).toBe('full');
    expect(flushReason(flush({ bufferedKeys: 3, sinceLastFlushMs: 199 }))).toBeNull();
    expect(flushReason(flush({ bufferedKeys: 3, sinceLastFlushMs: 200 }))).toBe('interval');
    expect(flushReason(flush({ bufferedTruncate: true, sinceLastFlushMs: 250 }))).toBe('interval');
  });
  it('persists a commit without keys (e.g. a heartbeat) so the slot can move on', () => {
    expect(flushReason(flush({ lastCommit: 150n, sinceLastFlushMs: 300 }))).toBe('commit');
  });
  it('persists keepalive positions only lazily', () => {
    expect(flushReason(flush({ durable: 180n, sinceLastFlushMs: 300 }))).toBeNull();
    // Not every few seconds: that write makes WAL whose keepalive asks for the next write.
    expect(flushReason(flush({ durable: 180n, sinceLastFlushMs: 2000 }))).toBeNull();
    expect(flushReason(flush({ durable: 180n, sinceLastFlushMs: 59_999 }))).toBeNull();
    expect(flushReason(flush({ durable: 180n, sinceLastFlushMs: 60_000 }))).toBe('keepalive');
  });
  it('never starts a second flush while one is in flight', () => {
    expect(flushReason(flush({ bufferedKeys: 9999, flushing: true }))).toBeNull();
  });
});

describe('nextFlushCheckMs', () => {
  it('sets no timer when nothing waits: an idle stream wakes nobody', () => {
    expect(nextFlushCheckMs(flush({ sinceLastFlushMs: 10_000 }))).toBeNull();
  });
  it('is due when flushReason would say yes, never later', () => {
    for (const o of [{ bufferedKeys: 3 }, { bufferedTruncate: true }, { lastCommit: 150n }, { durable: 180n }] as Array<
      Partial<FlushInputs>
    >) {
      const wait = nextFlushCheckMs(flush({ ...o, sinceLastFlushMs: 50 }))!;
      expect(
        wait,
        JSON.stringify(o, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).not.toBeNull();
      expect(flushReason(flush({ ...o, sinceLastFlushMs: 50 + wait - 1 }))).toBeNull();
      expect(flushReason(flush({ ...o, sinceLastFlushMs: 50 + wait }))).not.toBeNull();
    }
  });
  it('asks again after a flush in flight (its end asks too), and at once when overdue', () => {
    expect(nextFlushCheckMs(flush({ bufferedKeys: 3, flushing: true }))).toBe(200);
    expect(nextFlushCheckMs(flush({ bufferedKeys: 3, sinceLastFlushMs: 5000 }))).toBe(0);
  });
});

describe('flushCheckpoint', () => {
  it('is the last commit taken with the buffer, never lower than what is durable', () => {
    expect(flushCheckpoint(300n, 200n)).toBe(300n);
    // A flush in the middle of a transaction: its commit is not reached, the checkpoint stays.
    expect(flushCheckpoint(200n, 200n)).toBe(200n);
    expect(flushCheckpoint(150n, 200n)).toBe(200n);
  });
});

const ka = (o: Partial<KeepaliveInputs>): KeepaliveInputs => ({
  walEnd: 500n,
  durable: 100n,
  lastCommit: 100n,
  inTransaction: false,
  unhandledMessages: 0,
  bufferedKeys: 0,
  bufferedTruncate: false,
  flushing: false,
  ...o,
});

describe('keepaliveConfirm', () => {
  it('confirms the keepalive position when nothing is in flight', () => {
    expect(keepaliveConfirm(ka({}))).toBe(500n);
  });
  it('never inside a transaction, with messages still queued, keys buffered or a flush running', () => {
    expect(keepaliveConfirm(ka({ inTransaction: true }))).toBeNull();
    expect(keepaliveConfirm(ka({ unhandledMessages: 1 }))).toBeNull();
    expect(keepaliveConfirm(ka({ bufferedKeys: 1 }))).toBeNull();
    expect(keepaliveConfirm(ka({ bufferedTruncate: true }))).toBeNull();
    expect(keepaliveConfirm(ka({ flushing: true }))).toBeNull();
  });
  it('never while a seen commit is not yet durable', () => {
    expect(keepaliveConfirm(ka({ lastCommit: 300n, durable: 100n }))).toBeNull();
  });
  it('never moves backwards', () => {
    expect(keepaliveConfirm(ka({ walEnd: 50n }))).toBeNull();
  });
});

describe('timings', () => {
  it('sends status at 0.75 x wal_sender_timeout', () => {
    expect(statusIntervalMs(60_000)).toBe(45_000);
    expect(statusIntervalMs(0)).toBe(10_000);
  });
  it('backs off exponentially to 30 s with jitter', () => {
    expect(backoffMs(0, () => 0.5)).toBe(250);
    expect(backoffMs(3, () => 0.5)).toBe(2000);
    expect(backoffMs(20, () => 0.5)).toBe(30_000);
    expect(backoffMs(20, () => 1)).toBe(36_000);
  });
});
