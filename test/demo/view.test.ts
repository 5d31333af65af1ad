import { describe, expect, it } from 'vitest';
import { formatBytes, formatElapsed, renderPanel, summaryLine } from '../../src/demo/view.js';
import { CHANGE_KINDS } from '../../src/demo/changes.js';
import type { DemoSnapshot } from '../../src/demo/stats.js';

const snap = (over: Partial<DemoSnapshot> = {}): DemoSnapshot => ({
  elapsedMs: 83_400,
  captureConnected: true,
  delivered: 1234,
  skipped: 56,
  deadLettered: 3,
  deadLetterRows: 2,
  latestDeadLetters: [{ key: '1017', reason: 'gender: "X" has no entry in customers.fields.gender.map (known: "M", "F")' }],
  queueLive: 4,
  queueBackfill: 100,
  backfillEnqueued: 1000,
  backfillTotal: 1000,
  slotLagBytes: 2150,
  requestsLastMinute: 42,
  rpmLimit: 600,
  requestsTotal: 57,
  standInCustomers: 1010,
  standInPolicies: 2012,
  changes: {
    total: 20,
    byKind: Object.fromEntries(CHANGE_KINDS.map((k) => [k, k === 'bad-row' ? 2 : 0])) as DemoSnapshot['changes']['byKind'],
    failed: 0,
    lastError: null,
  },
  warnings: [],
  ...over,
});

describe('demo view', () => {
  it('shows what flows: stand-in, delivered, skipped, dead letters with reasons, queue, lag, requests vs limit', () => {
    const text = renderPanel(snap(), 200).join('\n');
    expect(text).toContain('01:23');
    expect(text).toContain('1,010 customers, 2,012 policies');
    expect(text).toContain('1,234 records');
    expect(text).toContain('56 unchanged');
    expect(text).toContain('customer 1017: gender: "X" has no entry');
    expect(text).toContain('live 4, backfill 100; backfill enqueued 1,000/1,000');
    expect(text).toContain('2.1 kB');
    expect(text).toContain('42 in the last minute (limit 600)');
    expect(text).toContain('2 bad rows');
    expect(text).not.toContain('daemon warnings');
  });

  it('keeps every line within the terminal width and shows the latest daemon warnings', () => {
    const lines = renderPanel(snap({ warnings: ['w1', 'w2', 'w3', `12:00:00 ERROR [capture] ${'x'.repeat(300)}`] }), 60);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    const text = lines.join('\n');
    expect(text).toContain('daemon warnings');
    expect(text).not.toContain('w1');
    expect(text).toContain('ERROR [capture]');
  });

  it('says "stopped" on the final panel instead of the Ctrl-C hint', () => {
    expect(renderPanel(snap({ stopped: true }))[0]).toMatch(/stopped$/);
  });

  it('summary line is key=value figures a script can read', () => {
    const line = summaryLine(snap({ slotLagBytes: null }));
    const kv = Object.fromEntries([...line.matchAll(/(\w+)=([\d/-]+)/g)].map((m) => [m[1], m[2]]));
    expect(kv).toMatchObject({
      t: '83',
      standin_customers: '1010',
      delivered: '1234',
      skipped: '56',
      dead_lettered: '3',
      queue_live: '4',
      queue_backfill: '100',
      slot_lag_bytes: '-1',
      requests_last_minute: '42/600',
      bad_rows: '2',
    });
  });

  it('formats bytes and elapsed time', () => {
    expect([formatBytes(null), formatBytes(0), formatBytes(1536), formatBytes(3 * 1024 * 1024)]).toEqual(['–', '0 B', '1.5 kB', '3.0 MB']);
    expect([formatElapsed(0), formatElapsed(61_000), formatElapsed(3_725_000)]).toEqual(['00:00', '01:01', '1:02:05']);
  });
});
