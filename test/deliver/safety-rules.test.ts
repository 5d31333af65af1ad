import { describe, expect, it } from 'vitest';
import { cancellationsIn, planHold, safetyThreshold } from '../../src/deliver/safety-rules.js';
import type { AssembleResult } from '../../src/assemble/index.js';

const policy = (status: string) => ({ healthSherpaPolicyId: `hs-${status}`, status }) as never;
const record = (n: number) =>
  ({ firstName: 'A', lastName: 'B', phoneNumber: '5551234567', policies: Array.from({ length: n }, () => policy('Cancelled')) }) as never;
const result = (o: Partial<AssembleResult>): AssembleResult => ({
  key: 'k',
  verdict: 'send',
  records: [],
  commit: null,
  issues: [],
  vanished: [],
  ...o,
});

describe('mass-cancellation rules', () => {
  it('counts the vanished policies a record sends, and current ones turning cancelled', () => {
    const commit = {
      hash: 'h',
      identity: null,
      forgetPolicies: [],
      policies: [
        { policyKey: 'p1', identifiers: {}, status: 'Cancelled' },
        { policyKey: 'p2', identifiers: {}, status: 'Active' },
      ],
    };
    // Two current policies plus one vanished one sent as Cancelled.
    const r = result({ records: [record(3)], commit });
    expect(cancellationsIn(r, new Map([['p1', 'Active']]))).toBe(2);
    // p1 was already cancelled when last sent: only the vanished one counts.
    expect(cancellationsIn(r, new Map([['p1', 'Cancelled']]))).toBe(1);
    // A new policy created cancelled takes nothing away.
    expect(cancellationsIn(r, new Map())).toBe(1);
    // A deleted customer whose policies are all sent as cancelled (onCustomerDelete: cancel-policies).
    expect(cancellationsIn(result({ verdict: 'deleted', records: [record(4)] }), new Map())).toBe(4);
    expect(cancellationsIn(result({ verdict: 'unchanged', commit }), new Map())).toBe(0);
  });

  it('takes the larger of 50 and 10 % of the active policies, a number, or off', () => {
    expect(safetyThreshold(undefined, 100)).toBe(50);
    expect(safetyThreshold(undefined, 5000)).toBe(500);
    expect(safetyThreshold(7, 5000)).toBe(7);
    expect(safetyThreshold('off', 5000)).toBeNull();
  });

  it('holds the records that would take the window past the threshold; approved ones go uncounted', () => {
    const batch = [
      { key: 'a', cancels: 30, approved: false },
      { key: 'b', cancels: 0, approved: false },
      { key: 'c', cancels: 15, approved: false },
      { key: 'd', cancels: 10, approved: false },
      { key: 'e', cancels: 99, approved: true },
    ];
    const { held, counted } = planHold(batch, 5, 50);
    expect([...counted.keys()]).toEqual(['a', 'c']);
    expect([...held.keys()]).toEqual(['d']);
    expect(planHold(batch, 1000, null).held.size).toBe(0);
  });
});
