import { describe, expect, it } from 'vitest';
import { nextSlot, RateLimiter, marginOf, scheduledPoint } from '../../src/deliver/limiter.js';
import { backoffDelayMs } from '../../src/deliver/backoff.js';
import { classifyResponse, parseRetryAfterHeader } from '../../src/deliver/classify.js';
import { planWaves, splitPlan } from '../../src/deliver/plan.js';
import { describeIssues } from '../../src/deliver/outcomes.js';
import { maxInAnyWindow } from '../../src/carecycle/stand-in/rate-window.js';

describe('limiter nextSlot', () => {
  const cfg = { limit: 60, windowMs: 60_000 };

  it('lets a lone request under light load go at once', () => {
    expect(nextSlot([], 1_000, 0, cfg)).toBe(1_000);
    expect(nextSlot([0], 5_000, 0, cfg)).toBe(5_000);
  });

  it('under sustained demand never exceeds the limit in any window and spreads evenly', () => {
    const sent: number[] = [];
    let now = 0;
    for (let i = 0; i < 600; i++) {
      const t = nextSlot(sent, now, 0, cfg);
      sent.push(t);
      now = t; // the next request is ready the moment this one leaves
    }
    expect(maxInAnyWindow(sent, cfg.windowMs)).toBe(60);
    const gaps = sent.slice(1).map((t, i) => t - (sent[i] as number));
    expect(Math.min(...gaps)).toBeCloseTo(Math.max(...gaps), 6); // evenly spaced
    // Throughput close to the ceiling: 600 requests in ~10 windows (+ the margin).
    expect((sent[599] as number) / 60_000).toBeLessThan(10 * (1 + marginOf(cfg) / 60_000) + 0.01);
  });

  it('does not let a full burst through at the start, unlike a full token bucket', () => {
    const sent: number[] = [];
    for (let i = 0; i < 120; i++) sent.push(nextSlot(sent, 0, 0, cfg));
    expect(sent.filter((t) => t < 60_000).length).toBeLessThanOrEqual(60);
  });

  it('respects the limit-th previous send even after idle gaps, and a 429 pause', () => {
    const small = { limit: 3, windowMs: 1_000, marginMs: 0 };
    // three sends bunched late in a window (after idling), the 4th must wait for the first to leave
    expect(nextSlot([10_000, 10_100, 10_200], 10_300, 0, small)).toBe(11_000);
    expect(nextSlot([], 0, 5_000, small)).toBe(5_000);
  });

  it('RateLimiter.acquire keeps a real rolling window', async () => {
    const lim = new RateLimiter({ limit: 5, windowMs: 200, marginMs: 5 });
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      await lim.acquire();
      times.push(Date.now());
    }
    expect(maxInAnyWindow(times, 200)).toBeLessThanOrEqual(5);
    expect(times[14]! - times[0]!).toBeGreaterThanOrEqual(14 * 41 - 5);
  });

  it('RateLimiter.acquire is abortable', async () => {
    const lim = new RateLimiter({ limit: 1, windowMs: 10_000 });
    await lim.acquire();
    await expect(lim.acquire(AbortSignal.timeout(20))).rejects.toThrow();
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter, capped', () => {
    const cfg = { baseMs: 100, maxMs: 1_000 };
    expect(backoffDelayMs(0, cfg, () => 0)).toBe(50);
    expect(backoffDelayMs(0, cfg, () => 0.999)).toBeLessThanOrEqual(100);
    expect(backoffDelayMs(3, cfg, () => 0)).toBe(400);
    expect(backoffDelayMs(50, cfg, () => 0.999)).toBeLessThanOrEqual(1_000);
    expect(backoffDelayMs(50, cfg, () => 0)).toBe(500);
  });
});

describe('classifyResponse', () => {
  const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('reads both success shapes; garbage is retried', () => {
    expect(classifyResponse(res(200, { succeeded: 1, failed: 0, errors: [] })).kind).toBe('ok');
    expect(classifyResponse(res(200, '<html>')).kind).toBe('retry');
  });

  it('429: body retryAfter or Retry-After header, the longer when both', () => {
    const rl = { message: 'Rate limit exceeded', code: 'RATE_LIMIT_EXCEEDED' };
    expect(classifyResponse(res(429, { ...rl, retryAfter: 60 }))).toEqual({ kind: 'rate-limited', retryAfterMs: 60_000 });
    expect(classifyResponse(res(429, rl, { 'retry-after': '2' }))).toEqual({ kind: 'rate-limited', retryAfterMs: 2_000 });
    expect(classifyResponse(res(429, { ...rl, retryAfter: 0.5 }, { 'retry-after': '1' }))).toEqual({
      kind: 'rate-limited',
      retryAfterMs: 1_000,
    });
    expect(classifyResponse(res(429, 'slow down'))).toEqual({ kind: 'rate-limited', retryAfterMs: undefined });
    expect(parseRetryAfterHeader('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(10_000);
  });

  it('401/403 are auth failures; 5xx and 408 retried; 404 fatal', () => {
    expect(classifyResponse(res(401, { message: 'API key invalid', code: 'UNAUTHORIZED' })).kind).toBe('auth');
    expect(classifyResponse(res(403, { message: 'no', code: 'FORBIDDEN' })).kind).toBe('auth');
    expect(classifyResponse(res(502, 'bad gateway')).kind).toBe('retry');
    expect(classifyResponse(res(408, '')).kind).toBe('retry');
    expect(classifyResponse(res(404, { message: 'Not found', code: 'NOT_FOUND' })).kind).toBe('fatal');
  });

  it('400 and 422 carry the validation issues', () => {
    for (const status of [400, 422]) {
      const v = classifyResponse(
        res(status, {
          message: 'Validation failed',
          code: 'VALIDATION_ERROR',
          errors: [{ path: ['records', 2, 'phoneNumber'], message: 'bad phone' }],
        }),
      );
      expect(v).toMatchObject({ kind: 'invalid', status, issues: [{ path: ['records', 2, 'phoneNumber'] }] });
    }
  });
});

describe('batch plans', () => {
  it('never puts two records with one externalId in a request; later parts go in later waves', () => {
    const recs = [{ externalId: 'a' }, { externalId: 'b' }, { externalId: 'a' }, { externalId: 'c' }, { externalId: 'a' }, {}];
    const plan = planWaves(recs, 2);
    expect(plan).toEqual([[[0, 1], [3], [5]], [[2]], [[4]]]);
  });

  it('chunks a wave into requests of at most maxPerRequest', () => {
    const recs = Array.from({ length: 250 }, (_, i) => ({ externalId: `k${i}` }));
    expect(planWaves(recs, 100)[0]!.map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it('splits by the records the issues name, else in halves, and never returns a non-smaller group', () => {
    const batch = [10, 11, 12, 13, 14];
    expect(splitPlan(batch, [{ path: ['records', 3, 'phoneNumber'], message: 'x' }])).toEqual([[10, 11, 12, 14], [13]]);
    expect(splitPlan(batch, [])).toEqual([
      [10, 11, 12],
      [13, 14],
    ]);
    expect(splitPlan(batch, [{ path: ['records', 99], message: 'out of range' }])).toEqual([
      [10, 11, 12],
      [13, 14],
    ]);
    expect(splitPlan([7], [{ path: ['records', 0, 'x'], message: 'x' }])).toEqual([]);
  });

  it('describes a lone record refusal with its field path', () => {
    expect(describeIssues([{ path: ['records', 0, 'policies', 1, 'status'], message: 'Invalid option' }], 'Validation failed')).toEqual({
      reason: 'policies[1].status: Invalid option',
      fieldPath: 'policies[1].status',
    });
    expect(describeIssues([], 'Validation failed')).toEqual({ reason: 'Validation failed' });
  });
});

describe('limiter drift', () => {
  it('spaces from the scheduled time of the previous send, the window rule from actual times', () => {
    const cfg = { limit: 10, windowMs: 1_000, marginMs: 0 };
    // previous send was due at 100 but left late at 130: the next is due at 200, not 230
    expect(nextSlot([130], 150, 0, cfg, 100)).toBe(200);
    // ten actual sends starting late at 50: the 11th waits for 50 + window even if spacing says sooner
    const actual = [50, 100, 200, 300, 400, 500, 600, 700, 800, 900];
    expect(nextSlot(actual, 950, 0, cfg, 900)).toBe(1_050);
  });
});

describe('limiter schedule catch-up', () => {
  const cfg = { limit: 10, windowMs: 1_000, marginMs: 0 }; // spacing 100
  it('lets the schedule lag a late send by at most one spacing', () => {
    expect(scheduledPoint(500, 400, cfg)).toBe(500); // on time
    expect(scheduledPoint(650, 400, cfg)).toBe(550); // 150 late: the schedule lags by one spacing only
    expect(scheduledPoint(5_000, 400, cfg)).toBe(4_900); // after idle: one spacing of credit, no more
    expect(scheduledPoint(300, undefined, cfg)).toBe(300);
  });
  it('after an idle spell allows a burst of two, then even spacing', () => {
    const sent: number[] = [];
    let sched: number | undefined = -10_000;
    const now = 0;
    const out: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = nextSlot(sent, now, 0, cfg, sched);
      sched = scheduledPoint(t, sched, cfg);
      sent.push(t);
      out.push(t);
    }
    expect(out).toEqual([0, 0, 100, 200, 300]);
  });
});
