import { describe, it, expect } from 'vitest';
import { StandInStore } from '../../src/carecycle/stand-in/store.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';

const base: AcaRecord = {
  externalId: 'c1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  phoneNumber: '5551234567',
  postalCode: '60601',
  email: 'ada@example.com',
  customFields: [
    { fieldKey: 'lead_source', value: 'web' },
    { fieldKey: 'tier', value: 'gold' },
  ],
  policies: [{ healthSherpaPolicyId: 'HS-1', status: 'Active', monthlyPremium: '12.00' }],
};
const clearing: AcaRecord = {
  externalId: 'c1',
  firstName: 'Ada',
  lastName: 'Lovelace',
  phoneNumber: '5551234567',
  postalCode: '60601',
  email: null,
  customFields: [{ fieldKey: 'lead_source', value: null }],
  policies: [{ healthSherpaPolicyId: 'HS-1', monthlyPremium: null }],
};

describe('stand-in: explicit nulls', () => {
  it('clear (default): a null removes the stored value; an omitted field keeps it', () => {
    const store = new StandInStore();
    store.apply(base, 0);
    store.apply(clearing, 1);
    const c = store.byExternalId('c1')!;
    expect('email' in c.fields).toBe(false);
    expect(c.fields.customFields).toEqual([{ fieldKey: 'tier', value: 'gold' }]);
    expect(c.policies[0]!.fields).toEqual({ healthSherpaPolicyId: 'HS-1', status: 'Active' });
  });

  it('ignore: a null is treated like an omitted field', () => {
    const store = new StandInStore('ignore');
    store.apply(base, 0);
    store.apply(clearing, 1);
    const c = store.byExternalId('c1')!;
    expect(c.fields.email).toBe('ada@example.com');
    expect(c.fields.customFields).toEqual([
      { fieldKey: 'lead_source', value: 'web' },
      { fieldKey: 'tier', value: 'gold' },
    ]);
    expect(c.policies[0]!.fields.monthlyPremium).toBe('12.00');
  });
});
