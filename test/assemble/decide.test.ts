import { describe, it, expect } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { catalogOf } from '../../src/assemble/catalog.js';
import { resolveMapping } from '../../src/assemble/mapping.js';
import { decide, type DecideSettings } from '../../src/assemble/decide.js';
import type { Row } from '../../src/assemble/build.js';

const cols = (names: string[]) => new Map(names.map((n) => [n, { name: n, type: n === 'id' || n === 'customer_id' ? 'bigint' : 'text' }]));
const catalog = catalogOf([
  { schema: 'public', name: 'customers', columns: cols(['id', 'first_name', 'last_name', 'phone', 'zip']) },
  { schema: 'public', name: 'policies', columns: cols(['id', 'customer_id', 'hs', 'eff']) },
]);
const config = validateConfig({
  source: { url: 'postgres://x/y' },
  customers: { table: 'customers', fields: { firstName: 'first_name', lastName: 'last_name', phoneNumber: 'phone', postalCode: 'zip' } },
  policies: { table: 'policies', customerKey: 'customer_id', fields: { healthSherpaPolicyId: 'hs', effectiveDate: 'eff' } },
});
const settings = (over: Partial<DecideSettings> = {}): DecideSettings => ({
  plan: resolveMapping(config, catalog).plan!,
  onCustomerDelete: 'ignore',
  onPolicyDelete: 'Cancelled',
  ...over,
});
const customer: Row = { __key: '7', v0: 'Ana', v1: 'Lopez', v2: '555 123 4567', v3: '02134' };
const policy = (n: number, eff = '2025-01-02'): Row => ({ __key: String(100 + n), __customer: '7', v0: `HS-${n}`, v1: eff });
const none = new Set<string>();

describe('decide', () => {
  it('sends a new customer, then calls the same payload unchanged', () => {
    const first = decide({ key: '7', row: customer, policyRows: [policy(1)], sent: undefined, moved: none }, settings());
    expect(first.verdict).toBe('send');
    expect(first.records).toEqual([
      {
        firstName: 'Ana',
        lastName: 'Lopez',
        phoneNumber: '(555) 123-4567',
        postalCode: '02134',
        externalId: '7',
        policies: [{ healthSherpaPolicyId: 'HS-1', effectiveDate: '01-02-2025' }],
      },
    ]);
    const sent = { hash: first.commit!.hash, identity: first.commit!.identity, policies: first.commit!.policies };
    expect(decide({ key: '7', row: customer, policyRows: [policy(1)], sent, moved: none }, settings()).verdict).toBe('unchanged');
    const changed = decide({ key: '7', row: { ...customer, v0: 'Anna' }, policyRows: [policy(1)], sent, moved: none }, settings());
    expect(changed.verdict).toBe('send');
  });

  it('names the path of a bad value in the 12th policy of a split customer', () => {
    const rows = Array.from({ length: 12 }, (_, i) => policy(i, i === 11 ? '2025-02-30' : '2025-01-02'));
    const r = decide({ key: '7', row: customer, policyRows: rows, sent: undefined, moved: none }, settings());
    expect(r.verdict).toBe('invalid');
    expect(r.issues).toEqual([
      { path: 'policies[11].effectiveDate', reason: '"2025-02-30" is not a real calendar date (policies.fields.effectiveDate)' },
    ]);
    expect(r.records).toEqual([]);
    expect(r.payload).toHaveLength(2);
  });

  it('a policy already last sent as Cancelled that vanishes is forgotten without a request', () => {
    const first = decide({ key: '7', row: customer, policyRows: [policy(1)], sent: undefined, moved: none }, settings());
    const sent = {
      hash: first.commit!.hash,
      identity: null,
      policies: [...first.commit!.policies, { policyKey: '555', identifiers: { healthSherpaPolicyId: 'HS-X' }, status: 'Cancelled' }],
    };
    const r = decide({ key: '7', row: customer, policyRows: [policy(1)], sent, moved: none }, settings());
    expect(r).toMatchObject({ verdict: 'unchanged', records: [], vanished: ['555'] });
    expect(r.commit!.forgetPolicies).toEqual(['555']);
  });

  it('cancel-policies without a remembered identity sends nothing but forgets the policies', () => {
    const sent = {
      hash: null,
      identity: null,
      policies: [{ policyKey: '101', identifiers: { healthSherpaPolicyId: 'HS-1' }, status: 'Active' }],
    };
    const r = decide({ key: '7', row: undefined, policyRows: [], sent, moved: none }, settings({ onCustomerDelete: 'cancel-policies' }));
    expect(r).toMatchObject({ verdict: 'deleted', deleteAction: 'cancel-policies', records: [] });
    expect(r.commit).toEqual({ hash: null, identity: null, policies: [], forgetPolicies: ['101'] });
  });
});
