import { describe, expect, it } from 'vitest';
import { mayRecreate, slotLoss, type SlotFacts } from '../../src/source/slot-health.js';

const healthy: SlotFacts = {
  exists: true,
  here: true,
  walStatus: 'reserved',
  invalidationReason: null,
  confirmedFlushLsn: '0/16B3748',
  walSenderTimeoutMs: 60_000,
};

describe('slot health', () => {
  it('tells a lost slot from a usable one', () => {
    expect(slotLoss(healthy)).toBeNull();
    expect(slotLoss({ ...healthy, walStatus: 'extended' })).toBeNull();
    expect(slotLoss({ ...healthy, exists: false })).toMatch(/does not exist/);
    expect(slotLoss({ ...healthy, walStatus: 'lost' })).toMatch(/WAL it needed was removed/);
    expect(slotLoss({ ...healthy, walStatus: 'lost', invalidationReason: 'wal_removed' })).toMatch(/invalidated \(wal_removed\)/);
    expect(slotLoss({ ...healthy, invalidationReason: 'rows_removed' })).toMatch(/rows_removed/);
  });

  it('allows three recreations within an hour', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    const ago = (m: number) => new Date(now.getTime() - m * 60_000).toISOString();
    expect(mayRecreate([], now)).toBe(true);
    expect(mayRecreate([ago(50), ago(10)], now)).toBe(true);
    expect(mayRecreate([ago(50), ago(30), ago(10)], now)).toBe(false);
    expect(mayRecreate([ago(90), ago(30), ago(10)], now)).toBe(true);
  });
});
