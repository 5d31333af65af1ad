/**
 * The delivery loop's pure decisions: what each claimed customer becomes once its records were
 * assembled and sent, and which state statements settle that.
 */
import { describe, expect, it } from 'vitest';
import type { AssembleResult } from '../../src/assemble/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';
import { itemsToSend, verdictsFor } from '../../src/deliver/verdicts.js';
import { settlePlan } from '../../src/deliver/queue-state.js';
import { autoTerminated, type RecordOutcome } from '../../src/deliver/outcomes.js';
import { record } from './helpers.js';

const commit = { hash: 'h', identity: { externalId: 'x' }, policies: [], forgetPolicies: [] };
const send = (key: string, records: AcaRecord[]): AssembleResult => ({ key, verdict: 'send', records, commit, issues: [], vanished: [] });
const ok = (key: string, index: number): RecordOutcome => ({ key, index, status: 'delivered' }) as RecordOutcome;
const results: AssembleResult[] = [
  send('1', [record('1')]),
  send('2', [record('2'), record('2')]), // 11+ policies: two records
  { key: '3', verdict: 'unchanged', records: [], commit, issues: [], vanished: [] },
  {
    key: '4',
    verdict: 'invalid',
    records: [],
    commit: null,
    issues: [
      { path: 'phoneNumber', reason: 'missing' },
      { path: 'gender', reason: '"X" unmapped' },
    ],
    payload: [{}],
    vanished: [],
  },
  { key: '5', verdict: 'deleted', records: [], commit: null, issues: [], vanished: [], deleteAction: 'ignore' },
  send('6', [record('6')]),
];

describe('verdictsFor', () => {
  it('sends every record of valid customers, none of invalid or unchanged ones', () => {
    expect(itemsToSend(results).map((i) => i.key)).toEqual(['1', '2', '2', '6']);
  });

  it('a customer is delivered only when all its records were accepted; one refusal dead-letters it whole', () => {
    const outcomes: RecordOutcome[] = [
      ok('1', 0),
      ok('2', 1),
      {
        key: '2',
        index: 2,
        status: 'rejected',
        reason: 'policies[0].status: bad',
        fieldPath: 'policies[0].status',
        httpStatus: 200,
      } as RecordOutcome,
      ok('6', 3),
    ];
    const v = verdictsFor(results, outcomes);
    expect(v.map((x) => [x.key, x.kind])).toEqual([
      ['1', 'delivered'],
      ['2', 'dead'],
      ['3', 'skipped'],
      ['4', 'dead'],
      ['5', 'skipped'],
      ['6', 'delivered'],
    ]);
    expect(v[1]).toMatchObject({ reason: 'policies[0].status: bad', fieldPath: 'policies[0].status', httpStatus: 200 });
    expect(v[3]).toMatchObject({
      reason: 'phoneNumber: missing; gender: "X" unmapped',
      fieldPath: 'phoneNumber',
      httpStatus: null,
      payload: [{}],
    });
    expect(v[4]).toMatchObject({ reason: 'deleted' });
  });

  it("refuses to guess when outcomes do not cover a customer's records", () => {
    expect(() => verdictsFor(results, [ok('1', 0), ok('2', 1), ok('6', 3)])).toThrow(/customer 2: 2 records sent, 1 outcomes/);
  });
});

describe('settlePlan', () => {
  it('counts, commits what was delivered or skipped, and clears dead letters that became moot', () => {
    const v = verdictsFor(results, [ok('1', 0), ok('2', 1), ok('2', 2), ok('6', 3)]);
    const p = settlePlan(v);
    expect(p.counts).toEqual({ delivered: 3, skipped: 2, deadLettered: 1, rejectedByApi: 0, autoTerminated: 0 });
    expect(p.commits.map((c) => c.key)).toEqual(['1', '2', '3', '6']);
    expect(p.dead.map((d) => d.key)).toEqual(['4']);
    // Unchanged since the last delivery: CareCycle already holds it, its old dead letter is moot.
    // A deleted customer (ignore) is not "in step": its dead letter stays for the operator.
    expect(p.resolvedKeys).toEqual(['1', '2', '3', '6']);
  });
});

describe('policies CareCycle terminated by itself', () => {
  const sentRecord = (policies: AcaRecord['policies']): AcaRecord => ({ ...record('9'), policies });
  const result = (policies: Array<Record<string, unknown>>) => ({ id: 'c9', externalId: '9', policies }) as never;

  it('are those that went to Terminated without the record asking for it', () => {
    const r = sentRecord([
      { healthSherpaPolicyId: 'new', status: 'Active' },
      { healthSherpaPolicyId: 'ended', status: 'Terminated' },
    ]);
    expect(
      autoTerminated(
        r,
        result([
          { id: 'p1', healthSherpaPolicyId: 'new', status: 'Active', previousStatus: null },
          { id: 'p2', healthSherpaPolicyId: 'ended', status: 'Terminated', previousStatus: 'Active' }, // asked for
          { id: 'p3', healthSherpaPolicyId: 'old', status: 'Terminated', previousStatus: 'Active' }, // not asked for
          { id: 'p4', carrierAssignedPolicyId: 'older', status: 'Terminated', previousStatus: 'Pending' },
          { id: 'p5', healthSherpaPolicyId: 'gone', status: 'Terminated', previousStatus: 'Terminated' }, // no change
        ]),
      ),
    ).toEqual(['old', 'older']);
    // Without identifiers in the echo, a record that terminated anything claims nothing.
    expect(autoTerminated(r, result([{ id: 'p3', status: 'Terminated', previousStatus: 'Active' }]))).toEqual([]);
    expect(
      autoTerminated(sentRecord([{ healthSherpaPolicyId: 'new' }]), result([{ id: 'p3', status: 'Terminated', previousStatus: 'Active' }])),
    ).toEqual(['p3']);
  });

  it('make the customer go once more, with a hash that cannot match; a restoring send does not repeat', () => {
    const terminated = (key: string, restoring: boolean) => {
      const r = { ...send(key, [record(key)]), ...(restoring ? { restoring } : {}) };
      const v = verdictsFor([r], [{ key, index: 0, status: 'delivered', autoTerminated: ['old'] } as RecordOutcome]);
      expect(v[0]).toMatchObject({ kind: 'delivered', autoTerminated: ['old'] });
      return settlePlan(v);
    };
    const first = terminated('7', false);
    expect(first.restore).toEqual(['7']);
    expect(first.counts.autoTerminated).toBe(1);
    expect(first.commits[0]).toMatchObject({ restore: true, commit: { hash: 'h' } });
    const again = terminated('7', true);
    expect(again.restore).toEqual([]);
    expect(again.commits[0]).toMatchObject({ restore: false, commit: { hash: 'h' } });
  });
});
