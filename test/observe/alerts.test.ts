import { describe, expect, it } from 'vitest';
import type { Readiness } from '../../src/observe/health.js';
import type { StatusReport } from '../../src/observe/status/collect.js';
import { ALERT_EVENTS, evaluate, intervalFor, newTracks, slackBody, type AlertMessage } from '../../src/observe/alerts/index.js';

const MIN = 60_000;
const T0 = Date.parse('2026-01-01T12:00:00Z');
const OK: Readiness = { ready: true, checks: { replication: { ok: true, detail: 'streaming' }, apiKey: { ok: true } } };
const DOWN: Readiness = {
  ready: false,
  checks: { replication: { ok: false, detail: 'disconnected: ECONNREFUSED' }, apiKey: { ok: true } },
};
const KEY_REJECTED: Readiness = {
  ready: false,
  checks: { replication: { ok: true }, apiKey: { ok: false, detail: 'CareCycle rejects the API key' } },
};
const STANDBY: Readiness = {
  ready: false,
  checks: { replication: { ok: false, detail: 'standby: another instance holds the slot', code: 'standby' } },
};
const settings = { notReadyMinutes: 5, repeatMinutes: 60, walRetainedBytes: 1_000_000 };

function status(deadLetters: number, retainedBytes = 1000, recreations = 0): StatusReport {
  return {
    deadLetters: {
      count: deadLetters,
      newest: Array.from({ length: Math.min(deadLetters, 12) }, (_, i) => ({
        key: String(100 + i),
        reason: 'Jane Doe <jane@x> is taken',
        fieldPath: 'phoneNumber',
        lastFailedAt: '',
      })),
      topReasons: [],
    },
    slot: { name: 'carecycle_sync', retainedBytes, recreations },
    queue: { total: 7 },
  } as unknown as StatusReport;
}

/** Feeds observations at the given minutes; returns "minute event status" lines. */
function run(steps: [number, Readiness, StatusReport | null][], s = settings): string[] {
  const tracks = newTracks();
  const out: string[] = [];
  for (const [minute, ready, st] of steps) {
    for (const m of evaluate(tracks, { now: T0 + minute * MIN, ready, status: st }, s, 'carecycle_sync'))
      out.push(`${minute} ${m.event} ${m.status}`);
  }
  return out;
}

describe('alert conditions', () => {
  it('not ready fires after notReadyMinutes (fractions allowed) and resolves once ready', () => {
    expect(
      run([
        [0, DOWN, status(0)],
        [4.9, DOWN, status(0)],
        [5, DOWN, status(0)],
        [6, DOWN, status(0)],
        [7, OK, status(0)],
      ]),
    ).toEqual(['5 not_ready firing', '7 not_ready resolved']);
    expect(
      run(
        [
          [0, DOWN, null],
          [0.4, DOWN, null],
          [0.5, DOWN, null],
        ],
        { ...settings, notReadyMinutes: 0.5 },
      ),
    ).toEqual(['0.5 not_ready firing']);
    // A short blip never pages.
    expect(
      run([
        [0, DOWN, status(0)],
        [3, OK, status(0)],
        [4, DOWN, status(0)],
        [8, DOWN, status(0)],
      ]),
    ).toEqual([]);
  });

  it('a standby is not "not ready"', () => {
    expect(
      run([
        [0, STANDBY, status(0)],
        [10, STANDBY, status(0)],
      ]),
    ).toEqual([]);
  });

  it('a rejected API key fires at once, besides not ready after its time', () => {
    expect(
      run([
        [0, KEY_REJECTED, status(0)],
        [5, KEY_REJECTED, status(0)],
        [6, OK, status(0)],
      ]),
    ).toEqual(['0 api_key_rejected firing', '5 not_ready firing', '6 not_ready resolved', '6 api_key_rejected resolved']);
  });

  it('dead letters: growth fires, more growth within repeatMinutes is quiet, falling back resolves', () => {
    expect(
      run([
        [0, OK, status(3)],
        [1, OK, status(3)],
        [2, OK, status(5)],
        [3, OK, status(9)],
        [70, OK, status(9)],
        [71, OK, status(0)],
        [72, OK, status(1)],
        [131, OK, status(1)],
      ]),
    ).toEqual([
      // 72: grown again, but within repeatMinutes of the last message; still so at 131: sent.
      '2 dead_letters_growing firing',
      '70 dead_letters_growing firing',
      '71 dead_letters_growing resolved',
      '131 dead_letters_growing firing',
    ]);
  });

  it('an unreadable status keeps each condition as it was', () => {
    expect(
      run([
        [0, OK, status(1)],
        [1, OK, status(2)],
        [2, OK, null],
        [3, OK, status(2)],
      ]),
    ).toEqual(['1 dead_letters_growing firing']);
  });

  it('retained WAL over the limit fires and resolves; no limit configured, no alert', () => {
    expect(
      run([
        [0, OK, status(0, 2_000_000)],
        [1, OK, status(0, 500)],
      ]),
    ).toEqual(['0 wal_retained firing', '1 wal_retained resolved']);
    expect(run([[0, OK, status(0, 9e12)]], { notReadyMinutes: 5, repeatMinutes: 60 } as typeof settings)).toEqual([]);
  });

  it('a recreated slot fires once when the count rises, and clears at the next look', () => {
    expect(
      run([
        [0, OK, status(0, 1000, 1)],
        [1, OK, status(0, 1000, 2)],
        [2, OK, status(0, 1000, 2)],
        [3, OK, status(0, 1000, 2)],
      ]),
    ).toEqual(['1 slot_recreated firing', '2 slot_recreated resolved']);
  });

  it('a mass-cancellation hold fires while records are held and resolves once released; an unreadable status changes nothing', () => {
    const held = (customers: number) =>
      ({ ...status(0), held: { customers, policies: customers * 3, since: '2026-01-01T11:59:00.000Z', reason: 'x' } }) as StatusReport;
    expect(
      run([
        [0, OK, status(0)],
        [1, OK, held(450)],
        [2, OK, null],
        [3, OK, held(451)],
        [4, OK, status(0)],
      ]),
    ).toEqual(['1 hold_started firing', '4 hold_started resolved']);
    const tracks = newTracks();
    const [m] = evaluate(tracks, { now: T0, ready: OK, status: held(450) }, settings, 'carecycle_sync');
    expect(m).toMatchObject({
      event: 'hold_started',
      summary: '450 customers held: they would cancel or terminate 1350 policies; fix the CRM or run carecycle-sync approve',
      details: { customers: 450, policies: 1350 },
    });
  });

  it('a flapping condition sends one message per repeatMinutes, and no resolved for a firing it did not announce', () => {
    const flap: [number, Readiness, StatusReport][] = [];
    for (let m = 0; m < 30; m += 2) flap.push([m, KEY_REJECTED, status(0)], [m + 1, OK, status(0)]);
    expect(run(flap).filter((l) => l.includes('api_key_rejected'))).toEqual(['0 api_key_rejected firing', '1 api_key_rejected resolved']);
  });

  it('messages have the documented shape and carry counts and keys, never reason texts', () => {
    const tracks = newTracks();
    evaluate(tracks, { now: T0, ready: OK, status: status(1) }, settings, 'carecycle_sync');
    const [m] = evaluate(tracks, { now: T0 + MIN, ready: OK, status: status(12) }, settings, 'carecycle_sync') as [AlertMessage];
    expect(m).toEqual({
      event: 'dead_letters_growing',
      status: 'firing',
      summary: 'dead letters: 12, up from 1',
      instance: 'carecycle_sync',
      at: '2026-01-01T12:01:00.000Z',
      details: { count: 12, previous: 1, newestKeys: ['100', '101', '102', '103', '104', '105', '106', '107', '108', '109'] },
    });
    expect(JSON.stringify(m)).not.toContain('Jane');
    const [r] = evaluate(tracks, { now: T0 + 2 * MIN, ready: OK, status: status(0) }, settings, 'carecycle_sync') as [AlertMessage];
    expect(r).toMatchObject({
      event: 'dead_letters_growing',
      status: 'resolved',
      summary: 'dead letters are back to where they were (retried, discarded or fixed)',
      details: { was: 'dead letters growing' },
    });
    expect(slackBody(r).text).toMatch(
      /^:white_check_mark: RESOLVED \[carecycle-sync carecycle_sync\] dead_letters_growing: dead letters are back/,
    );
    expect(slackBody(m).text).toBe(
      ':rotating_light: FIRING [carecycle-sync carecycle_sync] dead_letters_growing: dead letters: 12, up from 1 (2026-01-01T12:01:00.000Z)',
    );
    expect(ALERT_EVENTS).toEqual([
      'not_ready',
      'api_key_rejected',
      'dead_letters_growing',
      'wal_retained',
      'slot_recreated',
      'hold_started',
    ]);
  });

  it('checks often enough for the not-ready time', () => {
    expect(intervalFor(5)).toBe(15_000);
    expect(intervalFor(0.05)).toBe(750);
    expect(intervalFor(0.001)).toBe(250);
  });
});
