import { describe, it, expect } from 'vitest';
import { deliveryEtaMs, etaAtRateMs, RateMeter, remainingKeys } from '../../src/backfill/eta.js';
import { formatDrainLine, formatEnqueueLine } from '../../src/backfill/progress.js';
import { combinePredicates, chunkSelect, splitTable } from '../../src/backfill/keyset.js';

describe('backfill ETA', () => {
  it('derives delivery time from the rate limit: 250,000 customers at 60/min × 100 ≈ 42 minutes', () => {
    expect(deliveryEtaMs(250_000, 60, 100) / 60_000).toBeCloseTo(41.67, 1);
    expect(deliveryEtaMs(0, 60, 100)).toBe(0);
    expect(deliveryEtaMs(1000, 120, 50)).toBe(10_000);
  });

  it('counts keys still to deliver: pending plus not yet enqueued (none once the run finished)', () => {
    expect(remainingKeys({ pendingBackfill: 100, enqueued: 400, total: 1000, finished: false })).toBe(700);
    expect(remainingKeys({ pendingBackfill: 100, enqueued: 1000, total: 1000, finished: true })).toBe(100);
    expect(remainingKeys({ pendingBackfill: 5, enqueued: 10, total: null, finished: false })).toBe(5);
  });

  it('measures a rate over a sliding window and turns it into an ETA', () => {
    const m = new RateMeter(10_000);
    m.add(0, 0);
    expect(m.perSecond()).toBe(0);
    m.add(1000, 50_000);
    m.add(2000, 100_000);
    expect(m.perSecond()).toBe(50_000);
    m.add(20_000, 100_000); // stalled: old samples leave the window
    expect(m.perSecond()).toBe(0);
    expect(etaAtRateMs(100_000, 50_000)).toBe(2000);
    expect(etaAtRateMs(10, 0)).toBeNull();
  });

  it('prints both enqueue progress and the delivery ETA', () => {
    const limits = { requestsPerMinute: 60, batchSize: 100 };
    expect(formatEnqueueLine({ runId: '1', enqueued: 125_000, total: 250_000, rate: 50_000, remaining: 250_000 }, limits)).toBe(
      'enqueued 125,000/250,000 (50%) | 50,000 keys/s | enqueue ETA 3s | delivery ETA 42m at 60 req/min',
    );
    expect(formatDrainLine({ runId: '1', settled: 6000, total: 250_000, pending: 244_000, rate: 0 }, limits)).toBe(
      'delivered 6,000/250,000 (2%) | 244,000 pending | 0 records/min | ETA 41m',
    );
  });
});

describe('keyset SQL', () => {
  it('combines customers.where and --where, and qualifies unqualified tables with public', () => {
    expect(combinePredicates('deleted_at IS NULL', ' id > 5 ')).toBe('(deleted_at IS NULL) AND (id > 5)');
    expect(combinePredicates(undefined, null, '')).toBe('true');
    expect(splitTable('customers')).toEqual({ schema: 'public', table: 'customers' });
    expect(splitTable('crm.clients')).toEqual({ schema: 'crm', table: 'clients' });
  });

  it('compares the cursor in the key column type, never as text', () => {
    const src = { table: '"public"."customers"', key: '"id"', keyType: 'bigint', predicate: 'true' };
    expect(chunkSelect(src, true)).toBe(
      'SELECT "id" AS k FROM "public"."customers" WHERE (true) AND "id" > $2::text::bigint ORDER BY "id" LIMIT $1',
    );
    expect(chunkSelect(src, false)).not.toContain('$2');
  });
});
