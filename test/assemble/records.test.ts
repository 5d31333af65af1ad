import { describe, it, expect } from 'vitest';
import {
  canonicalJson,
  decideVanished,
  payloadHash,
  splitPolicies,
  unsplitPath,
  vanishedPolicies,
  withKey,
  type SentPolicy,
} from '../../src/assemble/records.js';

describe('canonical hash', () => {
  it('ignores key order at every level but not values or array order', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'z' } };
    const b = { a: { x: 'z', y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(payloadHash(a)).toBe(payloadHash(b));
    expect(payloadHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(payloadHash({ ...a, b: 2 })).not.toBe(payloadHash(a));
    expect(payloadHash([1, 2])).not.toBe(payloadHash([2, 1]));
  });

  it('treats undefined properties as absent', () => {
    expect(payloadHash({ a: 1, b: undefined })).toBe(payloadHash({ a: 1 }));
  });

  it('keeps the hashes already stored in `sent`: same bytes as the first implementation', () => {
    // The first implementation, verbatim: a changed canonical form would re-send every customer.
    function first(value: unknown): string {
      if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
      if (Array.isArray(value)) return `[${value.map((v) => first(v === undefined ? null : v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${first(obj[k])}`).join(',')}}`;
    }
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = ['a', 'B', 'b', '10', '9', 'é', 'policies', 'postalCode', 'x"y', ''];
    const gen = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return [null, undefined, true, 0, -1.5, 'text', 'q"\\\n', '☃'][Math.floor(rnd() * 8)];
      if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 6); i > 0; i--) o[keys[Math.floor(rnd() * keys.length)]!] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(0);
      expect(canonicalJson(v)).toBe(first(v));
    }
    expect(payloadHash({ b: [1, { d: null }], a: 'x' })).toBe('84838cb11665cb3b4ad53f8324066be184bb8c6b8a073a1fac33da8919010812'); // sha256 of {"a":"x","b":[1,{"d":null}]};
  });
});

describe('withKey', () => {
  it('places the key in name order, replaces an existing one, and leaves the input alone', () => {
    const input = { email: 'e', phoneNumber: 'p', postalCode: 'z' };
    expect(Object.keys(withKey(input, 'policies', []))).toEqual(['email', 'phoneNumber', 'policies', 'postalCode']);
    expect(Object.keys(withKey(input, 'zz', 1))).toEqual(['email', 'phoneNumber', 'postalCode', 'zz']);
    expect(withKey(input, 'email', 'new')).toEqual({ email: 'new', phoneNumber: 'p', postalCode: 'z' });
    expect(Object.keys(input)).toEqual(['email', 'phoneNumber', 'postalCode']);
  });
});

describe('splitPolicies', () => {
  const customer = { externalId: '7', firstName: 'Ana' };
  it('keeps ≤10 policies in one record and omits an empty policies array', () => {
    expect(splitPolicies(customer, [])).toEqual([{ externalId: '7', firstName: 'Ana' }]);
    const ten = Array.from({ length: 10 }, (_, i) => ({ n: i }));
    expect(splitPolicies(customer, ten)).toHaveLength(1);
  });

  it('splits 23 policies into 10 + 10 + 3 with the same identifiers, in order', () => {
    const ps = Array.from({ length: 23 }, (_, i) => ({ n: i }));
    const recs = splitPolicies(customer, ps);
    expect(recs.map((r) => r.policies?.length)).toEqual([10, 10, 3]);
    expect(recs.every((r) => r.externalId === '7' && r.firstName === 'Ana')).toBe(true);
    expect(recs.flatMap((r) => r.policies!.map((p) => p.n))).toEqual(ps.map((p) => p.n));
  });

  it('maps issue paths of split records back to the full policy list', () => {
    expect(unsplitPath('policies[3].status', 2)).toBe('policies[23].status');
    expect(unsplitPath('phoneNumber', 2)).toBe('phoneNumber');
  });
});

describe('vanished policies', () => {
  const sent: SentPolicy[] = [
    { policyKey: '1', identifiers: { healthSherpaPolicyId: 'HS-1' }, status: 'Active' },
    { policyKey: '2', identifiers: { carrierAssignedPolicyId: 'CP-2' }, status: 'Active' },
    { policyKey: '3', identifiers: {}, status: 'Active' },
    { policyKey: '4', identifiers: { healthSherpaPolicyId: 'HS-4' }, status: 'Cancelled' },
    { policyKey: '5', identifiers: { healthSherpaPolicyId: 'HS-5' }, status: null },
  ];

  it('finds remembered policies missing from the current keys', () => {
    expect(vanishedPolicies(sent, new Set(['1', '5'])).map((p) => p.policyKey)).toEqual(['2', '3', '4']);
    expect(vanishedPolicies(sent, new Set(['1', '2', '3', '4', '5']))).toEqual([]);
  });

  it('sends each once with the delete status and its identifiers, and forgets all', () => {
    const v = vanishedPolicies(sent, new Set(['1']));
    const d = decideVanished(v, 'Cancelled', new Set(['5']));
    // 3 has no identifier, 4 was already sent Cancelled, 5 moved to another customer.
    expect(d.send).toEqual([{ carrierAssignedPolicyId: 'CP-2', status: 'Cancelled' }]);
    expect(d.forget).toEqual(['2', '3', '4', '5']);
    expect(decideVanished(v, 'Terminated').send.map((p) => p.status)).toEqual(['Terminated', 'Terminated', 'Terminated']);
  });

  it('ignore sends nothing but still forgets', () => {
    const d = decideVanished(vanishedPolicies(sent, new Set()), 'ignore');
    expect(d.send).toEqual([]);
    expect(d.forget).toHaveLength(5);
  });
});
