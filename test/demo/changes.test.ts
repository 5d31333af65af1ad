import { describe, expect, it } from 'vitest';
import { CHANGE_KINDS, CHANGE_WEIGHTS, changeStatement, pickKind } from '../../src/demo/changes.js';

/** A small deterministic generator (mulberry32), so the frequencies below are reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('demo change kinds', () => {
  it('picks each kind at its weight', () => {
    const r = seeded(7);
    const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<string, number>;
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[pickKind(r())]!++;
    for (const k of CHANGE_KINDS) expect(counts[k]! / n).toBeCloseTo(CHANGE_WEIGHTS[k] / 100, 1);
  });

  it('maps the ends of [0, 1) to the first and last kinds, and skips zero weights', () => {
    expect(pickKind(0)).toBe(CHANGE_KINDS[0]);
    expect(pickKind(0.999999)).toBe(CHANGE_KINDS.at(-1));
    const onlyBad = Object.fromEntries(CHANGE_KINDS.map((k) => [k, k === 'bad-row' ? 1 : 0])) as typeof CHANGE_WEIGHTS;
    expect(pickKind(0, onlyBad)).toBe('bad-row');
  });

  it('bad rows carry a value the demo mapping rejects (phone "n/a" or sex "X"); good inserts do not', () => {
    const r = seeded(1);
    const bad = Array.from({ length: 40 }, () => changeStatement('bad-row', r).values);
    expect(bad.every((v) => v[2] === 'n/a' || v[6] === 'X')).toBe(true);
    expect(bad.some((v) => v[2] === 'n/a')).toBe(true);
    expect(bad.some((v) => v[6] === 'X')).toBe(true);
    const good = changeStatement('insert-customer', r).values;
    expect(good[2]).toMatch(/^555\d{7}$/);
    expect(['M', 'F']).toContain(good[6]);
  });

  it('a cleared field is an email or lead source set to NULL or blank', () => {
    const r = seeded(3);
    const all = Array.from({ length: 40 }, () => changeStatement('field-cleared', r));
    for (const c of all) expect(c.text).toMatch(/^UPDATE customers SET (email|lead_source) = \$1, updated_at = now\(\) WHERE/);
    expect(new Set(all.map((c) => c.values[0]))).toEqual(new Set([null, '', '  ']));
  });

  it('the unmapped update touches only notes', () => {
    expect(changeStatement('update-unmapped', seeded(2)).text).toMatch(/^UPDATE customers SET notes = \$1 WHERE/);
  });
});
