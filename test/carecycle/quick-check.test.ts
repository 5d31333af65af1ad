/**
 * The quick check (src/carecycle/quick-check.ts) must never call valid what the contract's zod
 * schema refuses, and should call valid what it accepts (else it saves nothing). Compared here on
 * random records built from values that zod itself sorts into valid and invalid per field.
 */
import { describe, expect, it } from 'vitest';
import {
  acaPolicySchema,
  acaRecordSchema,
  customFieldSchema,
  quickSyncRequest,
  syncRequestSchema,
  validateRecord,
} from '../../src/carecycle/schema.js';
import { objectCheck } from '../../src/carecycle/quick-check.js';
import { z } from 'zod';
import { seeded } from '../deliver/helpers.js';

/** Values of every kind a CRM mapping could produce, right and wrong. */
const POOL: unknown[] = [
  'Ada',
  '',
  ' ',
  'x'.repeat(2),
  'x'.repeat(50),
  'x'.repeat(51),
  'x'.repeat(100),
  'x'.repeat(101),
  'x'.repeat(255),
  'x'.repeat(256),
  '+15551234567',
  '5551234567',
  '(555) 123-4567',
  '555-123-4567',
  '60601',
  '6060',
  '60601-1234',
  '04-12-1958',
  '04/12/1958',
  '1958-04-12',
  '13-01-2020',
  '123.45',
  '-5',
  '0.5',
  '$5',
  '1,000.00',
  '1.234',
  'America/New_York',
  'PST',
  'HST',
  'UTC',
  'Male',
  'male',
  'Single',
  'Active',
  'Cancelled',
  'Gold',
  'IL',
  0,
  1,
  -1,
  1.5,
  2 ** 31,
  -(2 ** 31),
  NaN,
  true,
  false,
  null,
  undefined,
  {},
  [],
  ['a'],
  { a: 1 },
];

const shapeOf = (s: z.ZodType) => (s as unknown as { shape: Record<string, z.ZodType> }).shape;
/** Per field of a shape: the pool values zod accepts for it (never empty for the record fields). */
function validValues(shape: Record<string, z.ZodType>): Map<string, unknown[]> {
  return new Map(Object.entries(shape).map(([k, f]) => [k, POOL.filter((v) => f.safeParse(v).success)]));
}

function generator(seed: number) {
  const rnd = seeded(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const customer = validValues(shapeOf(acaRecordSchema));
  customer.delete('policies');
  customer.delete('customFields');
  const policy = validValues(shapeOf(acaPolicySchema));
  const field = validValues(shapeOf(customFieldSchema));
  /** A sparse object: some fields, each valid unless a mutation (wrong value, unknown key, removal) hits. */
  const sparse = (valid: Map<string, unknown[]>, required: string[], fields: number, mutate: number) => {
    const out: Record<string, unknown> = {};
    const keys = [...valid.keys()];
    for (const k of required) out[k] = pick(valid.get(k)!.length ? valid.get(k)! : POOL);
    for (let i = 0; i < fields; i++) {
      const k = pick(keys);
      const ok = valid.get(k)!;
      out[k] = ok.length && rnd() >= mutate ? pick(ok) : pick(POOL);
    }
    if (rnd() < mutate) out[pick(['clientCustomerId', 'policyType', '__proto__x'])] = pick(POOL);
    if (rnd() < mutate && required.length) delete out[pick(required)];
    return out;
  };
  return (mutate: number) => {
    const r = sparse(customer, ['firstName', 'lastName', 'phoneNumber', 'postalCode'], Math.floor(rnd() * 12), mutate);
    if (rnd() < 0.7)
      r.policies = Array.from({ length: Math.floor(rnd() * (rnd() < mutate ? 13 : 4)) }, () =>
        sparse(policy, [], Math.floor(rnd() * 10), mutate / 3),
      );
    if (rnd() < 0.3) r.customFields = Array.from({ length: Math.floor(rnd() * 3) }, () => sparse(field, ['fieldKey', 'value'], 0, mutate));
    if (rnd() < mutate / 4) r.policies = pick(POOL);
    return r;
  };
}

const quick = (r: unknown) => quickSyncRequest({ records: [r] });
const zodSays = (r: unknown) => acaRecordSchema.safeParse(r).success;

describe('quick check of records', () => {
  it('agrees with the zod schema on 8,000 random records, valid and broken', () => {
    const next = generator(20261124);
    let valid = 0;
    let disagreements: unknown[] = [];
    for (let i = 0; i < 8_000; i++) {
      const r = next(i % 2 === 0 ? 0 : 0.15);
      const z = zodSays(r);
      if (z) valid++;
      if (quick(r) !== z) disagreements.push(r);
    }
    disagreements = disagreements.slice(0, 3);
    expect(disagreements).toEqual([]);
    // Both kinds were well represented, or the comparison proves little.
    expect(valid).toBeGreaterThan(2_000);
    expect(valid).toBeLessThan(7_200);
  });

  it('agrees with zod on every pool value in every field, one field at a time', () => {
    const base = { firstName: 'Ada', lastName: 'L', phoneNumber: '5551234567', postalCode: '60601' };
    const cases: unknown[] = [];
    for (const k of Object.keys(shapeOf(acaRecordSchema))) for (const v of POOL) cases.push({ ...base, [k]: v });
    for (const k of Object.keys(shapeOf(acaPolicySchema))) for (const v of POOL) cases.push({ ...base, policies: [{ [k]: v }] });
    for (const k of Object.keys(shapeOf(customFieldSchema)))
      for (const v of POOL) cases.push({ ...base, customFields: [{ fieldKey: 'k', value: null, [k]: v }] });
    const disagreements = cases.filter((r) => quick(r) !== zodSays(r));
    expect(disagreements.slice(0, 3)).toEqual([]);
    expect(cases.length).toBeGreaterThan(4_000);
  });

  it('is never more lenient on odd inputs, and validateRecord still names the problem', () => {
    const base = { firstName: 'Ada', lastName: 'L', phoneNumber: '5551234567', postalCode: '60601' };
    class Rec {
      firstName = 'Ada';
      lastName = 'L';
      phoneNumber = '5551234567';
      postalCode = '60601';
    }
    const odd: unknown[] = [
      null,
      'x',
      [],
      [base],
      new Rec(),
      Object.create(base),
      { ...base, policies: [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}] },
      { ...base, customFields: Array.from({ length: 51 }, (_, i) => ({ fieldKey: `k${i}`, value: null })) },
      { ...base, postalCode: null },
      { ...base, policies: [new Rec()] },
      { ...base, firstName: undefined },
    ];
    for (const r of odd) expect(quick(r)).toBe(false);
    const v = validateRecord({ ...base, policies: [{ status: 'active' }] });
    expect(v.ok ? [] : v.issues.map((i) => i.path)).toEqual(['policies[0].status']);
  });

  it('checks whole requests: only `records`, 1 to 100 of them', () => {
    const r = { firstName: 'Ada', lastName: 'L', phoneNumber: '5551234567', postalCode: '60601' };
    expect(quickSyncRequest({ records: [r] })).toBe(true);
    for (const body of [{ records: [] }, { records: Array(101).fill(r) }, { records: [r], extra: 1 }, { records: r }, null]) {
      expect(quickSyncRequest(body)).toBe(false);
      expect(syncRequestSchema.safeParse(body).success).toBe(false);
    }
  });

  it('refuses to build for a schema whose refinements it was not told about', () => {
    const refined = z.strictObject({ a: z.string() }).refine((o) => o.a !== 'b');
    expect(() => objectCheck(refined)).toThrow(/1 refinement/);
    expect(objectCheck(z.object({ a: z.string() }))({ a: 'x' })).toBe(false); // not strict: not sure
  });
});
