import { describe, expect, it } from 'vitest';
import {
  syncRequestSchema,
  syncResponseSchema,
  rateLimitBodySchema,
  validationErrorBodySchema,
  validateRecord,
  formatPath,
  type AcaRecord,
} from '../../src/carecycle/schema.js';

const base: AcaRecord = { firstName: 'Ada', lastName: 'Lovelace', phoneNumber: '+15551234567', postalCode: '60601' };

function issuesOf(r: unknown): string[] {
  const v = validateRecord(r);
  return v.ok ? [] : v.issues.map((i) => `${i.path}: ${i.message}`);
}

describe('ACA record schema', () => {
  it('accepts a minimal record and each of the three phone formats', () => {
    for (const phoneNumber of ['+15551234567', '5551234567', '(555) 123-4567']) {
      expect(validateRecord({ ...base, phoneNumber }).ok).toBe(true);
    }
  });

  it('rejects other phone formats', () => {
    for (const phoneNumber of ['555-123-4567', '+1 (555) 123-4567', '15551234567', '+25551234567']) {
      expect(issuesOf({ ...base, phoneNumber })[0]).toMatch(/^phoneNumber:/);
    }
  });

  it('requires firstName, lastName and phoneNumber', () => {
    const issues = issuesOf({ postalCode: '60601' });
    expect(issues.map((i) => i.split(':')[0]).sort()).toEqual(['firstName', 'lastName', 'phoneNumber']);
  });

  it('requires postalCode or timezone, and checks both', () => {
    const { postalCode: _p, ...noZip } = base;
    expect(issuesOf(noZip)).toEqual(['postalCode: postalCode or timezone is required (TCPA)']);
    expect(validateRecord({ ...noZip, timezone: 'America/New_York' }).ok).toBe(true);
    expect(validateRecord({ ...noZip, timezone: 'PST' }).ok).toBe(true);
    expect(issuesOf({ ...noZip, timezone: 'HST' })[0]).toMatch(/^timezone:/);
    expect(issuesOf({ ...noZip, postalCode: null, timezone: null })[0]).toMatch(/^postalCode:.*required/);
    expect(issuesOf({ ...base, postalCode: '60601-1234' })[0]).toMatch(/^postalCode: must be exactly 5/);
  });

  it('checks dateOfBirth with the documented regex (ISO refused)', () => {
    expect(validateRecord({ ...base, dateOfBirth: '04/12/1958' }).ok).toBe(true);
    expect(validateRecord({ ...base, dateOfBirth: '04-12-1958' }).ok).toBe(true);
    expect(issuesOf({ ...base, dateOfBirth: '1958-04-12' })[0]).toMatch(/^dateOfBirth:/);
  });

  it('enforces enums, int32, lengths and unknown keys', () => {
    expect(issuesOf({ ...base, gender: 'male' })[0]).toMatch(/^gender:/);
    expect(issuesOf({ ...base, householdIncome: 2 ** 31 })[0]).toMatch(/^householdIncome:/);
    expect(issuesOf({ ...base, dependentCount: 1.5 })[0]).toMatch(/^dependentCount:/);
    expect(issuesOf({ ...base, state: 'x'.repeat(51) })[0]).toMatch(/^state: at most 50/);
    expect(issuesOf({ ...base, clientCustomerId: 'x' })[0]).toMatch(/clientCustomerId/);
  });

  it('limits policies to 10 and custom fields to 50', () => {
    const policies = Array.from({ length: 11 }, () => ({}));
    expect(issuesOf({ ...base, policies })[0]).toMatch(/^policies: at most 10/);
    const customFields = Array.from({ length: 51 }, (_, i) => ({ fieldKey: `k${i}`, value: 'v' }));
    expect(issuesOf({ ...base, customFields })[0]).toMatch(/^customFields: at most 50/);
  });

  it('reports nested policy paths, dates and money formats', () => {
    const ok = { status: 'Active', effectiveDate: '01/01/2025', monthlyPremium: '123.45', metalLevel: 'Silver' };
    expect(validateRecord({ ...base, policies: [ok] }).ok).toBe(true);
    const bad = { ...ok, effectiveDate: '2025-13-01', monthlyPremium: '$1,200.00', status: 'Lapsed', planState: 'ILL' };
    expect(
      issuesOf({ ...base, policies: [ok, bad] })
        .map((i) => i.split(':')[0])
        .sort(),
    ).toEqual(['policies[1].effectiveDate', 'policies[1].monthlyPremium', 'policies[1].planState', 'policies[1].status']);
  });
});

describe('request and response shapes', () => {
  it('accepts 1–100 records only', () => {
    expect(syncRequestSchema.safeParse({ records: [] }).success).toBe(false);
    expect(syncRequestSchema.safeParse({ records: Array(100).fill(base) }).success).toBe(true);
    expect(syncRequestSchema.safeParse({ records: Array(101).fill(base) }).success).toBe(false);
  });

  it('parses both success shapes and the error bodies', () => {
    expect(syncResponseSchema.safeParse({ succeeded: 1, failed: 0, errors: [] }).success).toBe(true);
    const withResults = {
      succeeded: 1,
      failed: 1,
      errors: [{ id: null, externalId: 'b', error: 'nope' }],
      results: [{ id: 'u1', externalId: 'a', policies: [{ id: 'p1', status: 'Active', previousStatus: null }] }],
    };
    expect(syncResponseSchema.safeParse(withResults).success).toBe(true);
    expect(rateLimitBodySchema.safeParse({ message: 'Rate limit exceeded', code: 'RATE_LIMIT_EXCEEDED', retryAfter: 60 }).success).toBe(
      true,
    );
    expect(
      validationErrorBodySchema.safeParse({
        message: 'bad',
        code: 'VALIDATION_ERROR',
        errors: [{ path: ['records', 0, 'phoneNumber'], message: 'x' }],
      }).success,
    ).toBe(true);
  });

  it('formats paths', () => {
    expect(formatPath(['records', 3, 'policies', 0, 'status'])).toBe('records[3].policies[0].status');
    expect(formatPath([])).toBe('');
  });
});
