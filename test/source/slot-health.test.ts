import { describe, expect, it } from 'vitest';
import { lostSlotDetail, slotHealth, slotProblem, type SlotFacts } from '../../src/pg/slot.js';
import { mayRecreate } from '../../src/source/slot-health.js';

const healthy: SlotFacts = {
  slotType: 'logical',
  plugin: 'pgoutput',
  database: 'crm',
  here: true,
  active: false,
  activePid: null,
  activeApplication: null,
  walStatus: 'reserved',
  invalidationReason: null,
  confirmedFlushLsn: '0/16B3748',
  restartLsn: '0/16B3710',
  lagBytes: 0,
  retainedBytes: 56,
  safeWalSizeBytes: null,
};

describe('slot health', () => {
  it('tells a lost slot from a usable one', () => {
    expect(slotHealth(healthy)).toEqual({ state: 'usable' });
    expect(slotHealth({ ...healthy, walStatus: 'extended' })).toEqual({ state: 'usable' });
    expect(slotHealth(null)).toMatchObject({ state: 'missing', reason: expect.stringMatching(/does not exist/) });
    expect(slotHealth({ ...healthy, walStatus: 'lost' })).toEqual({
      state: 'lost',
      reason: 'wal_status lost: its WAL was removed, past max_slot_wal_keep_size',
    });
    expect(slotHealth({ ...healthy, walStatus: 'lost', invalidationReason: 'wal_removed' })).toEqual({
      state: 'lost',
      reason: 'invalidated: wal_removed',
    });
    expect(slotHealth({ ...healthy, invalidationReason: 'rows_removed' })).toEqual({ state: 'lost', reason: 'invalidated: rows_removed' });
  });

  it('tells a slot that is not ours (another database, another plugin, a physical slot) before judging its WAL', () => {
    for (const f of [{ here: false }, { plugin: 'wal2json' }, { slotType: 'physical', plugin: null }]) {
      expect(slotHealth({ ...healthy, ...f, walStatus: 'lost' }).state).toBe('foreign');
    }
  });

  it('reports a lost slot with one sentence wherever it is reported', () => {
    const lost = slotHealth({ ...healthy, walStatus: 'lost' });
    if (lost.state !== 'lost') throw new Error('expected lost');
    expect(slotProblem('s', lost)).toBe(`replication slot "s" ${lostSlotDetail(lost.reason)}`);
    expect(slotProblem('s', lost)).toBe(
      'replication slot "s" is lost (wal_status lost: its WAL was removed, past max_slot_wal_keep_size): changes made since are gone from the stream',
    );
    expect(slotProblem('s', { state: 'missing', reason: 'the slot does not exist (dropped, or never created)' })).toBe(
      'replication slot "s": the slot does not exist (dropped, or never created)',
    );
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
