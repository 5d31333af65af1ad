import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FlushTimer } from '../../src/source/flush-timer.js';

describe('FlushTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds one timeout, for the earliest time asked; null asks for nothing', () => {
    const fired: number[] = [];
    const t = new FlushTimer(() => fired.push(Date.now()));
    const t0 = Date.now();
    t.request(null);
    expect(t.pending).toBe(false);
    t.request(500);
    t.request(900); // later: the 500 ms one stays
    t.request(200); // earlier: replaces it
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(fired.map((f) => f - t0)).toEqual([200]);
    expect(t.pending).toBe(false);
  });

  it('fires nothing after end()', () => {
    const fire = vi.fn();
    const t = new FlushTimer(fire);
    t.request(100);
    t.end();
    t.request(50);
    vi.advanceTimersByTime(1000);
    expect(fire).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});
