import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { catalogOf, type MappingTable } from '../../src/assemble/catalog.js';
import { resolveMapping } from '../../src/assemble/mapping.js';
import { changedParts, decideMappingChange, fingerprintOf, mappingParts } from '../../src/backfill/fingerprint.js';

const table = (name: string, cols: Record<string, string>): MappingTable => ({
  schema: 'public',
  name,
  columns: new Map(Object.entries(cols).map(([n, type]) => [n, { name: n, type }])),
});
const customerCols = {
  id: 'bigint',
  first_name: 'text',
  last_name: 'text',
  phone: 'text',
  zip: 'text',
  sex: 'text',
  notes: 'text',
  src: 'text',
};
const catalog = catalogOf([
  table('customers', customerCols),
  table('policies', { id: 'bigint', customer_id: 'bigint', hs_policy_id: 'text', status: 'text' }),
]);

const base = () => ({
  source: { url: 'postgres://localhost/crm' },
  customers: {
    table: 'public.customers',
    where: 'true',
    fields: {
      firstName: 'first_name',
      lastName: 'last_name',
      phoneNumber: { column: 'phone', transform: 'phone' },
      postalCode: 'zip',
    } as Record<string, unknown>,
    customFields: { lead: 'src' } as Record<string, unknown>,
  },
  policies: {
    table: 'policies',
    customerKey: 'customer_id',
    fields: { healthSherpaPolicyId: 'hs_policy_id', status: { column: 'status', map: { active: 'Active' } } },
  },
  sync: {} as Record<string, unknown>,
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary config shapes
function partsOf(patch: (c: any) => void = () => undefined, cat = catalog) {
  const raw = base();
  patch(raw);
  const config = validateConfig(raw);
  const { plan, problems } = resolveMapping(config, cat);
  expect(problems).toEqual([]);
  return mappingParts(plan!, config.sync);
}

describe('the mapping fingerprint', () => {
  it('is the same for the same mapping written in another order', () => {
    const a = partsOf();
    const b = partsOf((c) => {
      c.customers.fields = {
        postalCode: 'zip',
        phoneNumber: { transform: 'phone', column: 'phone' },
        lastName: 'last_name',
        firstName: 'first_name',
      };
    });
    expect(fingerprintOf(b)).toBe(fingerprintOf(a));
    expect(changedParts(a, b)).toEqual([]);
  });

  it('names by key path what changed: a field, a transform, a filter, a custom field, a delete rule', () => {
    const a = partsOf();
    const cases: Array<[(c: any) => void, string[]]> = [
      [(c) => (c.customers.fields.gender = { column: 'sex', map: { M: 'Male' } }), ['customers.fields.gender']],
      [(c) => (c.customers.fields.postalCode = { column: 'zip', transform: 'zip5' }), ['customers.fields.postalCode']],
      [(c) => (c.customers.where = 'notes IS NULL'), ['customers.where']],
      [(c) => (c.policies.where = "status <> 'x'"), ['policies.where']],
      [(c) => (c.customers.customFields.memo = 'notes'), ['customers.customFields.memo']],
      [(c) => (c.customers.customFields = { memo: 'notes', lead: 'src' }), ['customers.customFields.lead', 'customers.customFields.memo']],
      [(c) => (c.policies.fields.status.map.cancelled = 'Cancelled'), ['policies.fields.status']],
      [(c) => (c.sync.onPolicyDelete = 'ignore'), ['sync.onPolicyDelete']],
      [(c) => (c.sync.onCustomerDelete = 'cancel-policies'), ['sync.onCustomerDelete']],
      [(c) => (c.sync.dateFormat = 'MM/DD/YYYY'), ['sync.dateFormat']],
      [(c) => (c.customers.table = 'customers'), []],
    ];
    for (const [patch, expected] of cases) {
      const b = partsOf(patch);
      expect(changedParts(a, b), JSON.stringify(expected)).toEqual(expected);
      expect(fingerprintOf(b) === fingerprintOf(a)).toBe(expected.length === 0);
    }
  });

  it('ignores the keys that only change how records travel', () => {
    const a = partsOf();
    const b = partsOf((c) => (c.sync = { batchSize: 10, flushIntervalMs: 50, flushMaxKeys: 10, reconcileOnMappingChange: false }));
    expect(fingerprintOf(b)).toBe(fingerprintOf(a));
  });

  it('follows a mapping by naming convention when a column appears in the CRM', () => {
    const convention = (c: any) => delete c.customers.fields;
    const cols = { id: 'bigint', first_name: 'text', last_name: 'text', phone_number: 'text', postal_code: 'text', src: 'text' };
    const before = partsOf(
      convention,
      catalogOf([
        table('customers', cols),
        table('policies', { id: 'bigint', customer_id: 'bigint', hs_policy_id: 'text', status: 'text' }),
      ]),
    );
    const after = partsOf(
      convention,
      catalogOf([
        table('customers', { ...cols, email: 'text' }),
        table('policies', { id: 'bigint', customer_id: 'bigint', hs_policy_id: 'text', status: 'text' }),
      ]),
    );
    expect(changedParts(before, after)).toEqual(['customers.fields.email']);
  });

  it('decides: the first run stores without a reconcile, a change reconciles unless turned off', () => {
    const a = partsOf();
    const b = partsOf((c) => (c.customers.fields.gender = 'sex'));
    expect(decideMappingChange(undefined, a, true)).toEqual({ store: true, reconcile: false, changed: [], firstRun: true });
    expect(decideMappingChange({ fingerprint: fingerprintOf(a), parts: a }, a, true)).toMatchObject({ store: false, reconcile: false });
    expect(decideMappingChange({ fingerprint: fingerprintOf(a), parts: a }, b, true)).toEqual({
      store: true,
      reconcile: true,
      changed: ['customers.fields.gender'],
      firstRun: false,
    });
    expect(decideMappingChange({ fingerprint: fingerprintOf(a), parts: a }, b, false)).toMatchObject({ store: true, reconcile: false });
  });
});
