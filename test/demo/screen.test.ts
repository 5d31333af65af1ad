import { describe, expect, it } from 'vitest';
import { createScreen, logRing } from '../../src/demo/screen.js';
import { CHANGE_KINDS } from '../../src/demo/changes.js';
import type { DemoSnapshot } from '../../src/demo/stats.js';

const snap = (delivered: number): DemoSnapshot => ({
  elapsedMs: 1000,
  captureConnected: true,
  delivered,
  skipped: 0,
  deadLettered: 0,
  deadLetterRows: 0,
  latestDeadLetters: [],
  queueLive: 0,
  queueBackfill: 0,
  backfillEnqueued: 0,
  backfillTotal: null,
  slotLagBytes: 0,
  requestsLastMinute: 0,
  rpmLimit: 600,
  requestsTotal: 0,
  standInCustomers: 0,
  standInPolicies: 0,
  changes: {
    total: 0,
    byKind: Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as DemoSnapshot['changes']['byKind'],
    failed: 0,
    lastError: null,
  },
  warnings: [],
});

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return {
    out: { isTTY, columns: 100, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean },
    chunks,
  };
}

describe('demo screen', () => {
  it('on a terminal redraws the panel in place: up over exactly the lines drawn before', () => {
    const { out, chunks } = sink(true);
    const screen = createScreen({ out });
    screen.draw(snap(1));
    const first = chunks.at(-1)!;
    const lines = first.split('\n').length - 1;
    screen.draw(snap(2));
    expect(chunks.at(-2)).toBe(`\r\x1b[${lines}A\x1b[0J`);
    expect(chunks.at(-1)).toContain('2 records');
    screen.close(snap(3));
    expect(chunks.join('')).toContain('delivered=3');
    expect(chunks.at(-1)).toBe('\x1b[?25h'); // the cursor comes back
  });

  it('elsewhere prints at most one summary line per interval, and the final one at close', () => {
    const { out, chunks } = sink(false);
    const screen = createScreen({ out, lineEveryMs: 60_000 });
    screen.draw(snap(1));
    screen.draw(snap(2));
    screen.close(snap(3));
    expect(chunks.filter((c) => c.startsWith('demo t=')).map((c) => /delivered=(\d+)/.exec(c)![1])).toEqual(['1', '3']);
    expect(chunks.join('')).not.toContain('\x1b[');
  });

  it('log ring keeps the latest lines as short text, without the per-batch dead-letter warnings', () => {
    const echoed: string[] = [];
    const ring = logRing(2, { write: (s: string) => (echoed.push(s), true) } as unknown as NodeJS.WritableStream);
    const line = (o: object) => `${JSON.stringify({ time: '2026-01-01T10:11:12.000Z', ...o })}\n`;
    ring.write(line({ level: 40, msg: 'first' }));
    ring.write(line({ level: 50, component: 'capture', msg: 'stream lost', err: { message: 'terminated' } }));
    ring.write(line({ level: 40, component: 'delivery', deadLettered: 1, msg: 'records dead-lettered' }));
    ring.write(line({ level: 40, msg: 'third' }));
    expect(ring.lines()).toEqual(['10:11:12 ERROR [capture] stream lost: terminated', '10:11:12 WARN third']);
    expect(echoed).toHaveLength(4);
  });
});
