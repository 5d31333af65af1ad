import { describe, it, expect } from 'vitest';
import { canonicalJson, decideVanished, payloadHash, splitPolicies, unsplitPath, vanishedPolicies, type SentPolicy } from '../../src/assemble/records.js';

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
