import { describe, it, expect } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { catalogOf } from '../../src/assemble/catalog.js';
import { resolveMapping } from '../../src/assemble/mapping.js';
import { formatProblem } from '../../src/errors.js';
import { decide, type AssembleResult, type DecideSettings } from '../../src/assemble/decide.js';
import type { SentState } from '../../src/assemble/sent-state.js';
import type { Row } from '../../src/assemble/build.js';
import { isBlank } from '../../src/assemble/values.js';

const cols = (names: string[]) => new Map(names.map((n) => [n, { name: n, type: n === 'id' || n === 'customer_id' ? 'bigint' : 'text' }]));
const catalog = catalogOf([
  { schema: 'public', name: 'customers', columns: cols(['id', 'first_name', 'last_name', 'phone', 'zip', 'email', 'sex', 'dob', 'src']) },
  { schema: 'public', name: 'policies', columns: cols(['id', 'customer_id', 'hs', 'eff', 'premium', 'status']) },
]);
function configWith(sync: Record<string, unknown> = {}) {
  return validateConfig({
    source: { url: 'postgres://x/y' },
    sync,
    customers: {
      table: 'customers',
      fields: {
        firstName: 'first_name',
        lastName: 'last_name',
        phoneNumber: 'phone',
        postalCode: 'zip',
        email: 'email',
        gender: { column: 'sex', map: { M: 'Male', F: 'Female' } },
        dateOfBirth: { column: 'dob', transform: 'date' },
      },
      customFields: { lead_source: 'src' },
    },
    policies: {
      table: 'policies',
      customerKey: 'customer_id',
      fields: {
        healthSherpaPolicyId: 'hs',
        effectiveDate: 'eff',
        monthlyPremium: 'premium',
        status: { column: 'status', map: { active: 'Active', cancelled: 'Cancelled' } },
      },
    },
  });
}
function settings(sync: Record<string, unknown> = {}): DecideSettings {
  const config = configWith(sync);
  const { plan, problems } = resolveMapping(config, catalog);
  expect(problems).toEqual([]);
  return {
    plan: plan!,
    onCustomerDelete: 'ignore',
    onPolicyDelete: 'Cancelled',
    nullValues: config.sync.nullValues,
    onInvalidOptional: config.sync.onInvalidOptional,
  };
}
// v0..v6 customer fields in config order, v7 the custom field; policies v0..v3.
const customer = (over: Record<string, string | null> = {}): Row => ({
  __key: '7',
  v0: 'Ana',
  v1: 'Lopez',
  v2: '5551234567',
  v3: '02134',
  v4: 'ana@example.com',
  v5: 'F',
  v6: '1980-01-02',
  v7: 'web',
  ...over,
});
const policy = (over: Record<string, string | null> = {}): Row => ({
  __key: '100',
  __customer: '7',
  v0: 'HS-1',
  v1: '2025-01-02',
  v2: '123.40',
  v3: 'active',
  ...over,
});
const none = new Set<string>();
const sentOf = (r: AssembleResult): SentState => ({
  hash: r.commit!.hash,
  identity: r.commit!.identity,
  valued: r.commit!.valued ?? null,
  policies: r.commit!.policies,
});
const run = (row: Row, policies: Row[], sent: SentState | undefined, s: DecideSettings) =>
  decide({ key: '7', row, policyRows: policies, sent, moved: none }, s);

describe('sync.nullValues', () => {
  it('clear: a field last sent with a value goes once as null; then the customer is unchanged', () => {
    const s = settings();
    const first = run(customer(), [policy()], undefined, s);
    expect([...first.commit!.valued!].sort()).toEqual([
      'customFields.lead_source',
      'dateOfBirth',
      'email',
      'externalId',
      'firstName',
      'gender',
      'lastName',
      'phoneNumber',
      'postalCode',
    ]);
    const cleared = run(customer({ v4: null, v5: '  ', v7: '' }), [policy({ v2: null })], sentOf(first), s);
    expect(cleared.verdict).toBe('send');
    expect(cleared.records[0]).toMatchObject({ email: null, gender: null, customFields: [{ fieldKey: 'lead_source', value: null }] });
    expect(cleared.records[0]!.policies![0]).toMatchObject({ healthSherpaPolicyId: 'HS-1', monthlyPremium: null });
    expect(cleared.commit!.valued).not.toContain('email');
    expect(cleared.commit!.policies[0]!.valued).toEqual(['effectiveDate', 'healthSherpaPolicyId', 'status']);
    const after = run(customer({ v4: null, v5: '  ', v7: '' }), [policy({ v2: null })], sentOf(cleared), s);
    expect(after.verdict).toBe('unchanged');
  });

  it('the hash is the one of the null-free payload (stored hashes stay valid)', () => {
    const s = settings();
    const withEmail = run(customer(), [], undefined, s);
    const noEmail = run(customer({ v4: null }), [], undefined, s);
    const cleared = run(customer({ v4: null }), [], sentOf(withEmail), s);
    expect(cleared.records[0]!.email).toBeNull();
    expect(cleared.commit!.hash).toBe(noEmail.commit!.hash);
    expect(withEmail.commit!.hash).not.toBe(noEmail.commit!.hash);
  });

  it('a field never sent with a value is never sent as null', () => {
    const s = settings();
    const first = run(customer({ v4: null }), [policy({ v2: null })], undefined, s);
    const changed = run(customer({ v4: null, v0: 'Anna' }), [policy({ v2: null })], sentOf(first), s);
    expect(changed.verdict).toBe('send');
    expect('email' in changed.records[0]!).toBe(false);
    expect('monthlyPremium' in changed.records[0]!.policies![0]!).toBe(false);
    // A new policy has no remembered values: nothing of it is cleared.
    const added = run(
      customer({ v4: null, v0: 'Anna' }),
      [policy({ v2: null }), policy({ __key: '101', v0: 'HS-2', v2: null })],
      sentOf(changed),
      s,
    );
    expect(added.records[0]!.policies!.map((p) => 'monthlyPremium' in p)).toEqual([false, false]);
  });

  it('omit: nothing is ever sent as null', () => {
    const s = settings({ nullValues: 'omit' });
    const first = run(customer(), [policy()], undefined, s);
    const r = run(customer({ v4: null }), [policy({ v2: null })], sentOf(first), s);
    expect(r.verdict).toBe('send');
    expect('email' in r.records[0]!).toBe(false);
    expect('monthlyPremium' in r.records[0]!.policies![0]!).toBe(false);
  });

  it('state from before the fields were remembered: unchanged customers learn them; changed ones clear every empty mapped field', () => {
    const s = settings();
    const legacy = (r: AssembleResult): SentState => ({
      ...sentOf(r),
      valued: null,
      policies: r.commit!.policies.map((p) => ({ ...p, valued: null })),
    });
    const first = run(customer({ v4: null }), [policy({ v2: null })], undefined, s);
    const same = run(customer({ v4: null }), [policy({ v2: null })], legacy(first), s);
    expect(same.verdict).toBe('unchanged');
    expect(same.commit!.valued).not.toContain('email');
    const changed = run(customer({ v4: null, v0: 'Anna' }), [policy({ v2: null })], legacy(first), s);
    expect(changed.records[0]).toMatchObject({ firstName: 'Anna', email: null });
    expect(changed.records[0]!.policies![0]).toMatchObject({ monthlyPremium: null });
  });

  it('a policy deleted and inserted again under a new key keeps its remembered values', () => {
    const s = settings();
    const first = run(customer(), [policy()], undefined, s);
    const r = run(customer(), [policy({ __key: '200', v2: null })], sentOf(first), s);
    expect(r.records[0]!.policies).toEqual([
      { effectiveDate: '01-02-2025', healthSherpaPolicyId: 'HS-1', monthlyPremium: null, status: 'Active' },
    ]);
    expect(r.commit!.forgetPolicies).toEqual(['100']);
  });
});

describe('sync.onInvalidOptional', () => {
  it('dead-letter (default): a refused optional value makes the customer invalid', () => {
    const r = run(customer({ v5: 'X' }), [], undefined, settings());
    expect(r.verdict).toBe('invalid');
    expect(r.issues[0]!.path).toBe('gender');
  });

  it('omit: the field is left out and reported; required fields and identifiers still dead-letter', () => {
    const s = settings({ onInvalidOptional: 'omit' });
    const r = run(customer({ v5: 'X', v6: '1980-02-30' }), [policy({ v1: 'soon', v3: 'lapsed' })], undefined, s);
    expect(r.verdict).toBe('send');
    expect('gender' in r.records[0]!).toBe(false);
    expect(r.records[0]!.policies![0]).toEqual({ healthSherpaPolicyId: 'HS-1', monthlyPremium: '123.40' });
    expect(r.omitted!.map((o) => o.path)).toEqual(['gender', 'dateOfBirth', 'policies[0].effectiveDate', 'policies[0].status']);
    expect(r.omitted![0]!.reason).toContain('"X" has no entry in customers.fields.gender.map');
    expect(run(customer({ v2: '555-CALL-NOW' }), [], undefined, s).verdict).toBe('invalid');
    expect(run(customer({ v3: 'ABCDE' }), [], undefined, s).verdict).toBe('invalid');
  });

  it('omit: a refused value does not clear what CareCycle holds from before', () => {
    const s = settings({ onInvalidOptional: 'omit' });
    const first = run(customer(), [], undefined, s);
    const r = run(customer({ v5: 'X' }), [], sentOf(first), s);
    expect(r.verdict).toBe('send');
    expect('gender' in r.records[0]!).toBe(false);
    expect(r.commit!.valued).toContain('gender');
    // Refused, then emptied: the value CareCycle kept from before is cleared now.
    const emptied = run(customer({ v5: null }), [], sentOf(r), s);
    expect(emptied.verdict).toBe('send');
    expect(emptied.records[0]!.gender).toBeNull();
    expect(run(customer({ v5: null }), [], sentOf(emptied), s).verdict).toBe('unchanged');
  });
});

describe('sync.mapMatching and sync.policyDateFormat', () => {
  it('relaxed: case and spaces do not matter; exact: they do', () => {
    const relaxed = settings({ mapMatching: 'relaxed' });
    const r = run(customer({ v5: ' f ' }), [policy({ v3: 'ACTIVE' })], undefined, relaxed);
    expect(r.records[0]).toMatchObject({ gender: 'Female', policies: [{ status: 'Active' }] });
    expect(run(customer({ v5: 'Female' }), [], undefined, relaxed).issues[0]!.reason).toContain('case and spaces ignored');
    expect(run(customer({ v5: ' f ' }), [], undefined, settings()).verdict).toBe('invalid');
  });

  it('relaxed: two keys that become the same with different targets are a config problem', () => {
    const config = configWith({ mapMatching: 'relaxed' });
    config.customers.fields!.gender = { column: 'sex', map: { M: 'Male', m: 'Female' } };
    expect(resolveMapping(config, catalog).problems.map(formatProblem)).toEqual([
      'customers.fields.gender.map: "M" and "m" are the same key when case and spaces are ignored (sync.mapMatching: relaxed) but map to different values',
    ]);
  });

  it('policy dates follow sync.policyDateFormat; dateOfBirth keeps sync.dateFormat', () => {
    const r = run(customer(), [policy()], undefined, settings({ policyDateFormat: 'YYYY-MM-DD' }));
    expect(r.verdict).toBe('send');
    expect(r.records[0]).toMatchObject({ dateOfBirth: '01-02-1980', policies: [{ effectiveDate: '2025-01-02' }] });
    const slash = run(customer(), [policy()], undefined, settings({ policyDateFormat: 'MM/DD/YYYY' }));
    expect(slash.records[0]).toMatchObject({ dateOfBirth: '01-02-1980', policies: [{ effectiveDate: '01/02/2025' }] });
    const dflt = run(customer(), [policy()], undefined, settings({ dateFormat: 'MM/DD/YYYY' }));
    expect(dflt.records[0]).toMatchObject({ dateOfBirth: '01/02/1980', policies: [{ effectiveDate: '01/02/2025' }] });
  });
});

describe('blank values', () => {
  it.each([
    ['', true],
    [' ', true],
    ['\t\n', true],
    ['\u00a0', true],
    ['  \r\n  ', true],
    ['a', false],
    [' a ', false],
    ['a ', false],
    ['0', false],
    ['-', false],
  ])('isBlank(%j) is %s', (text, blank) => expect(isBlank(text as string)).toBe(blank));

  it('blank text in an optional field counts as NULL, and an identifier is never sent as ""', () => {
    const r = run(customer({ v4: ' ', v7: '\t' }), [policy({ v2: '' })], undefined, settings());
    expect(r.verdict).toBe('send');
    expect('email' in r.records[0]!).toBe(false);
    expect(r.records[0]!.customFields).toBeUndefined();
    const blankId = run(customer(), [policy({ v0: '  ' })], undefined, settings());
    expect(blankId.verdict).toBe('invalid');
    expect(blankId.issues[0]!.reason).toContain('neither healthSherpaPolicyId nor carrierAssignedPolicyId');
    const blankKey = decide({ key: ' ', row: customer({ __key: ' ' }), policyRows: [], sent: undefined, moved: none }, settings());
    expect(blankKey.verdict).toBe('invalid');
    expect(blankKey.issues[0]!.path).toBe('externalId');
  });
});
