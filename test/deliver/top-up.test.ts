import { describe, expect, it } from 'vitest';
import { MAX_TOP_UPS, topUpSize } from '../../src/deliver/loop.js';

describe('topping a request up to a full batch', () => {
  it('claims the missing records while the queue gave all it was asked for', () => {
    expect(topUpSize(12, 100, 100, 100, 0)).toBe(88);
    expect(topUpSize(95, 100, 88, 88, 1)).toBe(5);
  });

  it('stops when the request is full, the queue came back short, or after the last round', () => {
    expect(topUpSize(100, 100, 100, 100, 0)).toBe(0);
    expect(topUpSize(103, 100, 100, 100, 0)).toBe(0);
    expect(topUpSize(3, 100, 100, 40, 0)).toBe(0);
    expect(topUpSize(3, 100, 97, 96, 2)).toBe(0);
    expect(topUpSize(3, 100, 97, 97, MAX_TOP_UPS)).toBe(0);
  });
});
