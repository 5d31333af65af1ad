import { describe, expect, it } from 'vitest';
import type { AssembleResult } from '../../src/assemble/index.js';
import { changedPaths, emptyReport, tally } from '../../src/backfill/dry-run.js';
import { CRM_CHANGED, diffRecords, NEVER_SENT, NO_PREVIOUS } from '../../src/backfill/record-diff.js';
import { renderDryRun } from '../../src/cli/commands/backfill-dry-run.js';
import { validateConfig } from '../../src/config/load.js';

const rec = (over: Record<string, unknown> = {}) => ({
  externalId: '1',
  firstName: 'Ana',
  lastName: 'Lopez',
  phoneNumber: '5550000001',
  ...over,
});
const policy = (hs: string, over: Record<string, unknown> = {}) => ({ healthSherpaPolicyId: hs, status: 'Active', ...over });
const result = (key: string, verdict: AssembleResult['verdict'], records: object[], hash = 'h-now'): AssembleResult => ({
  key,
  verdict,
  records: records as AssembleResult['records'],
  commit: { hash, identity: null, policies: [], forgetPolicies: [] },
  issues: [],
  vanished: [],
});

describe('which fields of a record differ', () => {
  it('names customer fields, custom fields and policy fields by path', () => {
    const before = [rec({ email: 'a@x', customFields: [{ fieldKey: 'src', value: 'web' }], policies: [policy('HS-1'), policy('HS-2')] })];
    const after = [
      rec({
        email: 'b@x',
        gender: 'Male',
        customFields: [
          { fieldKey: 'src', value: 'web' },
          { fieldKey: 'tier', value: 'gold' },
        ],
        policies: [policy('HS-2'), policy('HS-1', { status: 'Cancelled' })],
      }),
    ];
    expect(diffRecords(before, after).map((c) => c.path)).toEqual(['customFields.tier', 'email', 'gender', 'policies[].status']);
    expect(diffRecords(before, after).find((c) => c.path === 'email')).toEqual({ path: 'email', before: 'a@x', after: 'b@x' });
  });

  it('matches policies across split records by their identifiers; a policy in one only is policies[]', () => {
    const ten = Array.from({ length: 11 }, (_, i) => policy(`HS-${i}`));
    const split = [rec({ policies: ten.slice(0, 10) }), rec({ policies: ten.slice(10) })];
    expect(diffRecords(split, [rec({ policies: [...ten].reverse() })])).toEqual([]);
    expect(diffRecords(split, [rec({ policies: ten.slice(1) })]).map((c) => c.path)).toEqual(['policies[]']);
  });

  it('counts a field that is no longer sent', () => {
    expect(diffRecords([rec({ email: 'a@x' })], [rec()])).toEqual([{ path: 'email', before: 'a@x', after: undefined }]);
  });
});

describe('the dry-run tally', () => {
  const sent = { hash: 'h-before', identity: null, policies: [] };
  it('is exact when the previous mapping reproduces the last send', () => {
    const item = { current: result('1', 'send', [rec({ gender: 'Male' })]), previous: result('1', 'send', [rec()], 'h-before'), sent };
    expect(changedPaths(item).map((c) => c.path)).toEqual(['gender']);
  });

  it('says so when the CRM row changed since the last send, or it was never sent, or nothing to compare with', () => {
    const current = result('1', 'send', [rec({ gender: 'Male', firstName: 'Eve' })]);
    expect(
      changedPaths({ current, previous: result('1', 'send', [rec({ firstName: 'Eve' })], 'h-other'), sent }).map((c) => c.path),
    ).toEqual(['gender', CRM_CHANGED]);
    expect(changedPaths({ current }).map((c) => c.path)).toEqual([NEVER_SENT]);
    expect(changedPaths({ current, sent }).map((c) => c.path)).toEqual([NO_PREVIOUS]);
  });

  it('counts customers as changed, unchanged or invalid, with the records and fields they send', () => {
    const r = emptyReport();
    tally(r, {
      current: result('1', 'send', [rec({ gender: 'Male' }), rec({ gender: 'Male' })]),
      previous: result('1', 'send', [rec(), rec()], 'h-before'),
      sent,
    });
    tally(r, { current: result('2', 'unchanged', []), sent });
    tally(r, { current: { ...result('3', 'invalid', []), issues: [{ path: 'phoneNumber', reason: 'is required' }] } });
    expect(r).toMatchObject({ customers: 3, changed: 1, unchanged: 1, invalid: 1, records: 2, fields: { gender: 1 } });
    expect(r.invalidExamples).toEqual([{ key: '3', path: 'phoneNumber', reason: 'is required' }]);
    const config = validateConfig({ source: { url: 'postgres://x/y' }, customers: { table: 'customers' } });
    const text = renderDryRun({ ...r, etaMs: 1000, previousUsable: true }, { config });
    expect(text).toContain('would change  1  (2 records)');
    expect(text).toContain('gender: (not sent) → "Male"');
    expect(text).toContain('No mapping stored by `run` yet');
  });
});
