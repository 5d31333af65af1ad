import { describe, it, expect } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { catalogOf, type MappingTable } from '../../src/assemble/catalog.js';
import { resolveMapping, snakeCase } from '../../src/assemble/mapping.js';
import { formatProblem } from '../../src/errors.js';
import { mapValue } from '../../src/assemble/values.js';
import { customerQuery, policyQuery } from '../../src/assemble/query.js';

const table = (name: string, cols: Record<string, string>): MappingTable => ({
  schema: 'public',
  name,
  columns: new Map(Object.entries(cols).map(([n, type]) => [n, { name: n, type }])),
});
const catalog = catalogOf([
  table('customers', {
    id: 'bigint',
    first_name: 'text',
    last_name: 'text',
    phone: 'text',
    zip: 'text',
    sex: 'text',
    birth_date: 'date',
    dnc: 'text',
  }),
  table('people', {
    person_id: 'uuid',
    first_name: 'text',
    last_name: 'text',
    phone_number: 'text',
    postal_code: 'text',
    do_not_sms: 'boolean',
    notes: 'text',
  }),
  table('policies', { id: 'bigint', customer_id: 'bigint', hs_policy_id: 'text', status: 'text' }),
  table('customer_phones', { id: 'bigint', customer_id: 'bigint' }),
]);

const base = {
  source: { url: 'postgres://localhost/crm' },
  customers: {
    table: 'public.customers',
    fields: {
      firstName: 'first_name',
      lastName: 'last_name',
      phoneNumber: { column: 'phone', transform: 'phone' },
      postalCode: { column: 'zip', transform: 'zip5' },
      gender: { column: 'sex', map: { M: 'Male', F: 'Female' } },
    },
  },
  policies: {
    table: 'policies',
    customerKey: 'customer_id',
    fields: { healthSherpaPolicyId: 'hs_policy_id', status: { column: 'status', map: { active: 'Active' } } },
  },
  watch: [{ table: 'public.customer_phones', customerKey: 'customer_id' }],
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary config shapes
const withPatch = (patch: (c: any) => void) => {
  const c = structuredClone(base);
  patch(c);
  const r = resolveMapping(validateConfig(c), catalog);
  return { ...r, problems: r.problems.map(formatProblem) };
};

describe('resolveMapping', () => {
  it('accepts the good mapping and types the key casts from the catalog', () => {
    const { plan, problems } = withPatch(() => undefined);
    expect(problems).toEqual([]);
    expect(plan!.customers.keyType).toBe('bigint');
    expect(customerQuery(plan!.customers)).toContain('"id" = ANY($1::bigint[])');
    expect(policyQuery(plan!.policies!)).toContain('"customer_id" = ANY($1::bigint[])');
  });

  it('names a missing column with its key path and table', () => {
    const { problems } = withPatch((c) => {
      c.customers.fields.phoneNumber.column = 'phone_no';
      c.customers.fields.firstName = 'fname';
    });
    expect(problems).toContain('customers.fields.phoneNumber.column: column "phone_no" does not exist in public.customers');
    expect(problems).toContain('customers.fields.firstName: column "fname" does not exist in public.customers');
  });

  it('names a wrong enum target with the allowed values', () => {
    const { problems } = withPatch((c) => {
      c.customers.fields.gender.map.M = 'Man';
      c.policies.fields.status.map.active = 'Live';
    });
    expect(problems).toContain(
      'customers.fields.gender.map.M: "Man" is not a gender; expected one of Male, Female, Non-Binary, Other, Prefer Not to Say',
    );
    expect(
      problems.some((p) =>
        p.startsWith('policies.fields.status.map.active: "Live" is not a policy status; expected one of Active, Pending'),
      ),
    ).toBe(true);
  });

  it('checks defaults and map targets of typed fields', () => {
    const { problems } = withPatch((c) => {
      c.customers.fields.doNotCall = { column: 'dnc', map: { Y: 'true', N: 'nope' } };
      c.customers.fields.dateOfBirth = { column: 'birth_date', default: 'yesterday' };
    });
    expect(problems.some((p) => p.startsWith('customers.fields.doNotCall.map.N: "nope" is not a yes/no value'))).toBe(true);
    expect(problems.some((p) => p.startsWith('customers.fields.dateOfBirth.default: "yesterday" is not a date'))).toBe(true);
  });

  it('names missing tables, keys, customer keys and watch columns', () => {
    const { problems } = withPatch((c) => {
      c.customers.key = 'cid';
      c.policies.table = 'public.policys';
      c.watch = [
        { table: 'customer_phones', customerKey: 'cust' },
        { table: 'crm.notes', customerKey: 'customer_id' },
      ];
    });
    expect(problems).toContain('customers.key: column "cid" does not exist in public.customers');
    expect(problems).toContain('policies.table: table public.policys does not exist (or is not visible to this user)');
    expect(problems).toContain('watch[0].customerKey: column "cust" does not exist in public.customer_phones');
    expect(problems).toContain('watch[1].table: table crm.notes does not exist (or is not visible to this user)');
  });

  it('requires the fields CareCycle requires, and a policy identifier', () => {
    const { problems } = withPatch((c) => {
      delete (c.customers.fields as Record<string, unknown>).lastName;
      delete (c.customers.fields as Record<string, unknown>).postalCode;
      c.policies.fields = { status: 'status' } as never;
    });
    expect(problems).toContain('customers.fields: lastName not mapped; CareCycle requires firstName, lastName and phoneNumber');
    expect(problems).toContain('customers.fields: postalCode not mapped; CareCycle requires postalCode or timezone (TCPA)');
    expect(problems.some((p) => p.startsWith('policies.fields: neither healthSherpaPolicyId nor carrierAssignedPolicyId is mapped'))).toBe(
      true,
    );
  });

  it('maps snake_case columns by convention when fields is absent', () => {
    const { plan, problems } = resolveMapping(
      validateConfig({ source: { url: 'postgres://x/y' }, customers: { table: 'people', key: 'person_id' } }),
      catalog,
    );
    expect(problems).toEqual([]);
    expect(plan!.customers.fields.map((f) => [f.target, f.column])).toEqual([
      ['firstName', 'first_name'],
      ['lastName', 'last_name'],
      ['phoneNumber', 'phone_number'],
      ['postalCode', 'postal_code'],
      ['doNotSMS', 'do_not_sms'],
    ]);
    expect(plan!.customers.keyType).toBe('uuid');
  });

  it('says which convention column is missing', () => {
    const { problems } = resolveMapping(validateConfig({ source: { url: 'postgres://x/y' }, customers: { table: 'customers' } }), catalog);
    expect(problems.map(formatProblem)).toContain(
      'customers.fields: phoneNumber not mapped (no `fields`, and no column named phone_number); CareCycle requires firstName, lastName and phoneNumber',
    );
  });

  it('snake_cases ACA names including acronyms', () => {
    expect(['firstName', 'doNotSMS', 'address2', 'healthSherpaPolicyId'].map(snakeCase)).toEqual([
      'first_name',
      'do_not_sms',
      'address2',
      'health_sherpa_policy_id',
    ]);
  });
});

describe('mapValue', () => {
  const opts = { dateFormat: 'MM-DD-YYYY' as const };
  const gender = {
    target: 'gender',
    path: 'customers.fields.gender',
    expr: '"sex"',
    kind: 'enum' as const,
    transform: 'upper' as const,
    map: { M: 'Male' },
  };
  it('applies transform, then map, then the field type', () => {
    expect(mapValue(gender, 'm', opts)).toEqual({ ok: true, value: 'Male' });
    expect(mapValue({ target: 'doNotCall', path: 'p', expr: 'x', kind: 'boolean' }, 'true', opts)).toEqual({ ok: true, value: true });
    expect(mapValue({ target: 'dependentCount', path: 'p', expr: 'x', kind: 'integer' }, '2', opts)).toEqual({ ok: true, value: 2 });
    expect(mapValue({ target: 'dateOfBirth', path: 'p', expr: 'x', kind: 'date' }, '1980-02-03', opts)).toEqual({
      ok: true,
      value: '02-03-1980',
    });
  });
  it('uses the default for NULL and reports an unmapped value with the config path', () => {
    expect(mapValue({ ...gender, default: 'Other' }, null, opts)).toEqual({ ok: true, value: 'Other' });
    expect(mapValue(gender, null, opts)).toEqual({ ok: true, value: null });
    const r = mapValue(gender, 'x', opts);
    expect(r).toEqual({ ok: false, reason: '"X" has no entry in customers.fields.gender.map (known: "M")' });
  });
});
