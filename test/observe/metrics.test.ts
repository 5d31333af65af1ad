import { describe, it, expect } from 'vitest';
import { createMetrics, observeRequest, observeRateLimitWait } from '../../src/observe/metrics.js';
import { parsePromText, sampleValue } from './prom-text.js';

describe('createMetrics', () => {
  it('renders every documented metric as valid Prometheus text, with process metrics', async () => {
    const m = createMetrics();
    m.changesReceived.inc({ table: 'public.customers' }, 3);
    m.keysFlushed.inc(2);
    m.recordsDelivered.inc(100);
    m.recordsFailed.inc({ stage: 'validation' });
    m.recordsSkipped.inc({ reason: 'unchanged' }, 4);
    observeRequest(m, 200, 0.3);
    observeRequest(m, 429, 0.01);
    observeRequest(m, 'error', 30);
    observeRateLimitWait(m, 'retry_after', 60);
    m.queueDepth.set({ priority: 'live' }, 7);
    const fams = parsePromText(await m.render());
    for (const name of [
      'slot_lag_bytes',
      'slot_retained_wal_bytes',
      'queue_depth',
      'oldest_pending_age_seconds',
      'records_delivered_total',
      'records_failed_total',
      'records_skipped_total',
      'requests_total',
      'request_duration_seconds',
      'rate_limit_waits_total',
      'rate_limit_wait_seconds_total',
      'dead_letters',
      'backfill_enqueued',
      'backfill_total',
      'changes_received_total',
      'keys_flushed_total',
      'confirm_lag_bytes',
      'replication_connected',
    ]) {
      // prom-client declares counters without the _total suffix in HELP/TYPE
      const fam = fams.get(`carecycle_sync_${name}`) ?? fams.get(`carecycle_sync_${name.replace(/_total$/, '')}`);
      expect(fam, name).toBeDefined();
      expect(fam!.help.length, `${name} has help`).toBeGreaterThan(10);
    }
    expect(fams.get('carecycle_sync_process_resident_memory_bytes')).toBeDefined();
    expect(sampleValue(fams, 'carecycle_sync_requests_total', { status: '429' })).toBe(1);
    expect(sampleValue(fams, 'carecycle_sync_request_duration_seconds_bucket', { status: '200', le: '0.5' })).toBe(1);
    expect(sampleValue(fams, 'carecycle_sync_request_duration_seconds_bucket', { status: '200', le: '0.25' })).toBe(0);
    expect(sampleValue(fams, 'carecycle_sync_rate_limit_wait_seconds_total', { reason: 'retry_after' })).toBe(60);
    expect(sampleValue(fams, 'carecycle_sync_queue_depth', { priority: 'live' })).toBe(7);
    expect(sampleValue(fams, 'carecycle_sync_changes_received_total', { table: 'public.customers' })).toBe(3);
  });

  it('keeps two instances apart (own registry, not the global one)', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.recordsDelivered.inc(5);
    expect(sampleValue(parsePromText(await b.render()), 'carecycle_sync_records_delivered_total')).toBe(0);
    expect(sampleValue(parsePromText(await a.render()), 'carecycle_sync_records_delivered_total')).toBe(5);
  });

  it('refreshes gauges through the collector on each scrape', async () => {
    const m = createMetrics({ defaultMetrics: false });
    let depth = 1;
    m.setCollector(async (mm) => {
      mm.deadLetters.set(depth++);
    });
    expect(sampleValue(parsePromText(await m.render()), 'carecycle_sync_dead_letters')).toBe(1);
    expect(sampleValue(parsePromText(await m.render()), 'carecycle_sync_dead_letters')).toBe(2);
  });

  it('answers a scrape even when the collector fails or hangs, counting the failure', async () => {
    const errors: unknown[] = [];
    const m = createMetrics({ defaultMetrics: false, collectTimeoutMs: 50, onCollectError: (e) => errors.push(e) });
    m.deadLetters.set(9);
    m.setCollector(async () => {
      throw new Error('state DB down');
    });
    let fams = parsePromText(await m.render());
    expect(sampleValue(fams, 'carecycle_sync_dead_letters')).toBe(9);
    expect(sampleValue(fams, 'carecycle_sync_collect_errors_total')).toBe(1);
    m.setCollector(() => new Promise(() => undefined));
    const t0 = Date.now();
    fams = parsePromText(await m.render());
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(sampleValue(fams, 'carecycle_sync_collect_errors_total')).toBe(2);
    expect(String(errors[1])).toMatch(/longer than 50 ms/);
  });
});

describe('parsePromText (the test helper itself)', () => {
  it('rejects text Prometheus would refuse', () => {
    expect(() => parsePromText('foo 1\n')).toThrow(/undeclared/);
    expect(() => parsePromText('# TYPE foo gauge\nfoo{a=b} 1\n')).toThrow(/bad labels/);
    expect(() => parsePromText('# TYPE foo gauge\nfoo one\n')).toThrow(/bad value/);
  });
});
