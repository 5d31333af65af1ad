import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { validateConfig } from '../../src/config/load.js';
import { interpolate } from '../../src/config/interpolate.js';
import { expandedWords, nameScore, phrase, singular } from '../../src/init/names.js';
import { profileColumn, type ColumnProfile } from '../../src/init/profile.js';
import { proposeEnumMap } from '../../src/init/enum-maps.js';
import { chooseFields, scoreColumn } from '../../src/init/fields.js';
import { CUSTOMER_TARGETS, POLICY_TARGETS } from '../../src/init/targets.js';
import { lineOfBusinessFilter, softDeleteFilter, type SampledTable } from '../../src/init/tables.js';
import { isProposal, propose } from '../../src/init/propose.js';
import { renderConfig, scalar } from '../../src/init/render.js';
import { estimateRows, sampleClause } from '../../src/init/sample.js';
import { configPathOf, tallyPreview } from '../../src/init/reasons.js';
import type { AssembleResult } from '../../src/assemble/index.js';

const col = (name: string, type: string, values: Array<string | null>): ColumnProfile => profileColumn(name, type, values);
const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const target = (field: string) => [...CUSTOMER_TARGETS, ...POLICY_TARGETS].find((t) => t.field === field)!;

function table(name: string, columns: ColumnProfile[], extra: Partial<SampledTable> = {}): SampledTable {
  return {
    schema: 'public',
    name,
    primaryKey: ['id'],
    foreignKeys: [],
    estimatedRows: 100,
    sampleMethod: '100 random rows',
    columns,
    sampledKeys: [],
    ...extra,
  };
}

describe('column names as words', () => {
  it('reads snake, camel and abbreviated names alike', () => {
    expect(phrase('first_nm')).toBe('first name');
    expect(phrase('fname')).toBe('first name');
    expect(phrase('cust_first_name')).toBe('first name');
    expect(phrase('policyStatus')).toBe('status');
    expect(expandedWords('policyStatus').join(' ')).toBe('policy status');
    expect(phrase('dob')).toBe('birth date');
    expect(phrase('healthSherpaId')).toBe('healthsherpa id');
    expect(phrase('addr_line1')).toBe('address line 1');
    expect(singular('policies')).toBe('policy');
    expect(singular('clients')).toBe('client');
  });

  it('matches a synonym inside a longer name only as its last word or as a phrase of several words', () => {
    expect(nameScore('monthly_premium', ['premium']).score).toBeGreaterThan(0);
    expect(nameScore('last_updated', ['last']).score).toBe(0);
    expect(nameScore('dnc_flag', ['do not call']).score).toBeGreaterThan(0);
  });
});

describe('value shapes', () => {
  it('counts phones in mixed formats, ZIP+4 and two-letter states', () => {
    const p = col('cell', 'text', ['(312) 555-1234', '312.555.1234', '+1 312 555 1234', 'n/a', null]);
    expect(p.nonNull).toBe(4);
    expect(p.shapes.phone).toBe(0.75);
    expect(p.phoneFormats).toContain('(XXX) XXX-XXXX');
    expect(col('zip', 'text', ['60601', '60601-1234']).shapes.zip4).toBe(0.5);
    expect(col('st', 'text', ['il', 'IN', 'XX']).shapes.state).toBeCloseTo(2 / 3);
  });
});

describe('enum maps from distinct values', () => {
  it('reads ISO 5218 codes for gender, with 9 as unknown', () => {
    const p = proposeEnumMap('gender', [
      { value: '1', count: 50 },
      { value: '2', count: 45 },
      { value: '9', count: 5 },
    ]);
    expect(p.map).toEqual({ '1': 'Male', '2': 'Female' });
    expect(p.unknown).toEqual(['9']);
    expect(p.covered).toBe(1);
  });

  it('maps status codes and words, and lists values it does not know', () => {
    const p = proposeEnumMap('status', [
      { value: 'A', count: 5 },
      { value: 'term', count: 3 },
      { value: 'CANCELED', count: 2 },
      { value: 'ZZ', count: 1 },
    ]);
    expect(p.map).toEqual({ A: 'Active', CANCELED: 'Cancelled', term: 'Terminated' });
    expect(p.uncovered).toEqual(['ZZ']);
    expect(p.covered).toBeCloseTo(10 / 11);
  });
});

describe('field choices', () => {
  it('prefers a mobile phone to a home phone, and finds a phone by its values when no name says so', () => {
    const phones = repeat(20, (i) => `312555${String(1000 + i)}`);
    const r = chooseFields(CUSTOMER_TARGETS, [col('home_phone', 'text', phones), col('cell_phone', 'text', phones)], new Set());
    expect(r.chosen.find((c) => c.field === 'phoneNumber')?.column).toBe('cell_phone');
    expect(r.chosen.find((c) => c.field === 'phoneNumber')?.why).toContain('other candidates: home_phone (a weaker match)');
    const byValues = scoreColumn(target('phoneNumber'), col('contact1', 'text', phones));
    expect(byValues?.score).toBeGreaterThan(0);
    expect(byValues?.nameScore).toBe(0);
  });

  it('takes the phone column that is set most often when a mobile column is mostly empty', () => {
    const phones = repeat(20, (i) => `312555${String(1000 + i)}`);
    const sparse = phones.map((p, i) => (i % 4 === 0 ? p : null));
    const r = chooseFields(CUSTOMER_TARGETS, [col('cell', 'text', sparse), col('home_phone', 'text', phones)], new Set());
    expect(r.chosen.find((c) => c.field === 'phoneNumber')?.column).toBe('home_phone');
  });

  it('fills the gaps of an often empty phone column from the other phone columns', () => {
    const phones = repeat(20, (i) => `312555${String(1000 + i)}`);
    const r = chooseFields(
      CUSTOMER_TARGETS,
      [
        col(
          'cell',
          'text',
          phones.map((p, i) => (i % 5 === 0 ? null : p)),
        ),
        col(
          'home_phone',
          'text',
          phones.map((p, i) => (i % 2 ? p : null)),
        ),
      ],
      new Set(),
    );
    const phone = r.chosen.find((c) => c.field === 'phoneNumber')!;
    expect(phone.spec).toEqual({ sql: `coalesce(nullif(trim("cell"::text), ''), nullif(trim("home_phone"::text), ''))` });
    expect(phone.why.join('\n')).toContain('cell is empty in 20 % of sampled rows: home_phone fills in');
    expect(r.usedColumns.has('home_phone')).toBe(true);
  });

  it('takes a ZIP kept in an integer column (leading zeros lost) with zip5', () => {
    const r = chooseFields(CUSTOMER_TARGETS, [col('zip', 'integer', ['2134', '60601'])], new Set());
    expect(r.chosen[0]).toMatchObject({ field: 'postalCode', spec: { column: 'zip', transform: 'zip5' } });
  });

  it('reads a column whose name needs quoting through {sql}', () => {
    const r = chooseFields(CUSTOMER_TARGETS, [col('First Name', 'text', ['Ana'])], new Set());
    expect(r.chosen[0]).toMatchObject({ field: 'firstName', spec: { sql: '"First Name"' } });
  });

  it('rejects a column whose name matches but whose values do not, and says why', () => {
    const c = scoreColumn(
      target('dateOfBirth'),
      col(
        'birth',
        'text',
        repeat(10, () => 'soon'),
      ),
    );
    expect(c?.score).toBe(0);
    expect(c?.rejected).toBe('only 0 % of 10 sampled values look like dates');
  });

  it('gives each choice its transform: phone, zip5, date, money, boolean, upper', () => {
    const r = chooseFields(
      [...CUSTOMER_TARGETS, ...POLICY_TARGETS.filter((t) => t.field === 'monthlyPremium')],
      [
        col('mobile', 'text', ['312-555-1234']),
        col('zip_code', 'text', ['60601-1234']),
        col('dob', 'date', ['1980-01-02']),
        col('premium', 'numeric', ['12.50']),
        col('dnc', 'text', ['Y', 'N']),
        col('state', 'text', ['il']),
      ],
      new Set(),
    );
    const spec = Object.fromEntries(r.chosen.map((c) => [c.field, c.spec]));
    expect(spec).toMatchObject({
      phoneNumber: { column: 'mobile', transform: 'phone' },
      postalCode: { column: 'zip_code', transform: 'zip5' },
      dateOfBirth: { column: 'dob', transform: 'date' },
      monthlyPremium: { column: 'premium', transform: 'money' },
      doNotCall: { column: 'dnc', transform: 'boolean' },
      state: { column: 'state', transform: 'upper' },
    });
  });
});

describe('filters', () => {
  it('turns deleted_at, is_deleted and active into the where of the live rows', () => {
    expect(
      softDeleteFilter(table('c', [col('deleted_at', 'timestamp with time zone', [null, '2024-01-01'])]), { activeFlags: true })?.sql,
    ).toBe('"deleted_at" IS NULL');
    expect(softDeleteFilter(table('c', [col('is_deleted', 'boolean', ['false'])]), { activeFlags: true })?.sql).toBe(
      '"is_deleted" IS NOT TRUE',
    );
    expect(softDeleteFilter(table('c', [col('active', 'boolean', ['true'])]), { activeFlags: true })?.sql).toBe('"active" IS NOT FALSE');
    expect(softDeleteFilter(table('p', [col('active', 'boolean', ['true'])]), { activeFlags: false })).toBeUndefined();
    expect(softDeleteFilter(table('c', [col('deleted', 'text', ['Y', 'N'])]), { activeFlags: true })?.sql).toBe(
      `upper(coalesce("deleted", 'N')) IN ('N', 'NO', 'F', 'FALSE', '0')`,
    );
  });

  it('keeps the ACA policies of a line-of-business column', () => {
    const f = lineOfBusinessFilter(table('p', [col('lineOfBusiness', 'text', ['ACA', 'ACA', 'Medicare'])]));
    expect(f?.sql).toBe(`"lineOfBusiness" = 'ACA'`);
    expect(f?.why).toContain('67 % of sampled policies are ACA (others: Medicare)');
  });
});

describe('sampling', () => {
  it('reads a random LIMIT of a small table and a TABLESAMPLE of a large one, always with a LIMIT', () => {
    expect(sampleClause(5000, 100, 1000).clause).toBe('ORDER BY random() LIMIT 1000');
    expect(sampleClause(2_000_000, 15_000, 1000).clause).toBe('TABLESAMPLE SYSTEM (0.150) REPEATABLE (42) LIMIT 1000');
    expect(sampleClause(1500, 400, 1000).clause).toBe('LIMIT 1000');
  });

  it('estimates rows from statistics scaled to the current size, or from pages when never analysed', () => {
    expect(estimateRows(1000, 10, 20)).toBe(2000);
    expect(estimateRows(-1, 0, 100)).toBe(6000);
  });
});

describe('the proposal as YAML', () => {
  const names = repeat(30, (i) => ['Ana', 'Ben', 'Cy'][i % 3]!);
  const customers = table('client', [
    col(
      'id',
      'integer',
      repeat(30, (i) => String(i)),
    ),
    col('first_nm', 'text', names),
    col('surname', 'text', names),
    col(
      'cell',
      'text',
      repeat(30, (i) => `(312) 555-${String(1000 + i)}`),
    ),
    col(
      'zip',
      'text',
      repeat(30, () => '60601'),
    ),
    col(
      'sex',
      'text',
      repeat(30, (i) => ['M', 'F', 'X?'][i % 3]!),
    ),
  ]);
  const policies = table('policies', [
    col('id', 'integer', ['1']),
    col('client_id', 'integer', ['1']),
    col('status', 'text', ['active']),
    col('carrier_policy_id', 'text', ['CP1']),
  ]);

  it('is a config that validates, with a reason above each choice and the values a map does not cover', () => {
    const p = propose([customers, policies]);
    expect(isProposal(p)).toBe(true);
    if (!isProposal(p)) return;
    const text = renderConfig(p, { database: 'crm', schemas: ['public'], sampleRows: 1000, at: new Date('2026-01-02T00:00:00Z') });
    const raw = parse(text);
    expect(() => validateConfig(interpolate(raw, { DATABASE_URL: 'postgres://u@h/crm' }).value)).not.toThrow();
    expect(raw.customers.fields.phoneNumber).toEqual({ column: 'cell', transform: 'phone' });
    expect(raw.policies).toMatchObject({ table: 'public.policies', customerKey: 'client_id' });
    expect(text).toContain('# cell: name reads "mobile"; 100 % of 30 sampled values look like US phone numbers');
    expect(text).toContain('not covered by the map, so records with them are invalid until you add them: "X?" (33 %)');
  });

  it('proposes the policy number as carrierAssignedPolicyId when no policy id column exists', () => {
    const p = propose([
      customers,
      table('policies', [
        col('id', 'integer', ['1']),
        col('client_id', 'integer', ['1']),
        col('status', 'text', ['active']),
        col('policy_no', 'text', ['P1']),
      ]),
    ]);
    if (!isProposal(p)) throw new Error('no proposal');
    const ids = p.policies!.fields.filter((f) => f.column === 'policy_no').map((f) => f.field);
    expect(ids.sort()).toEqual(['carrierAssignedPolicyId', 'policyNumber']);
  });

  it('watches a second policy-like table and says the config maps one policy table', () => {
    const dental = table('dental_policies', [
      col('id', 'integer', ['1']),
      col('client_id', 'integer', ['1']),
      col('status', 'text', ['active']),
      col('carrier', 'text', ['Delta']),
    ]);
    const p = propose([customers, policies, dental]);
    if (!isProposal(p)) throw new Error('no proposal');
    expect(p.policies!.table.name).toBe('policies');
    expect(p.watch.map((w) => [w.table.name, w.customerKey])).toEqual([['dental_policies', 'client_id']]);
    expect(p.watch[0]!.why).toContain('it looks like policies too');
  });

  it('says what it looked for when nothing looks like customers', () => {
    const p = propose([table('widgets', [col('id', 'integer', ['1']), col('label', 'text', ['a'])])]);
    expect(isProposal(p)).toBe(false);
    if (isProposal(p)) return;
    expect(p.lookedFor).toContain('first name, last name and phone');
    expect(p.tables[0]).toContain('public.widgets: no a firstName column');
  });

  it('quotes only what YAML would misread', () => {
    expect(scalar('first_nm')).toBe('first_nm');
    expect(scalar('yes')).toBe('"yes"');
    expect(scalar('a b')).toBe('"a b"');
  });
});

describe('preview reasons', () => {
  const bad = (key: string, path: string, reason: string): AssembleResult =>
    ({ key, verdict: 'invalid', records: [], commit: null, issues: [{ path, reason }], vanished: [] }) as AssembleResult;

  it('groups reasons across customers, most common first, with the key path to edit', () => {
    const t = tallyPreview([
      bad('1', 'phoneNumber', '"n/a" is not a phone number (customers.fields.phoneNumber)'),
      bad('2', 'phoneNumber', '"x" is not a phone number (customers.fields.phoneNumber)'),
      bad('3', 'policies[2].status', '"ZZ" has no entry in policies.fields.status.map (known: "A")'),
      { key: '4', verdict: 'send', records: [], commit: null, issues: [], vanished: [] } as AssembleResult,
    ]);
    expect(t).toMatchObject({ customers: 4, valid: 1, invalid: 3, outside: 0 });
    expect(t.reasons.map((r) => [r.customers, r.path, r.configPath])).toEqual([
      [2, 'phoneNumber', 'customers.fields.phoneNumber'],
      [1, 'policies[].status', 'policies.fields.status'],
    ]);
    expect(configPathOf('policies[0].effectiveDate', 'not a date')).toBe('policies.fields.effectiveDate');
    const missing = tallyPreview([bad('5', 'phoneNumber', 'Invalid input: expected string, received undefined')]);
    expect(missing.reasons[0]!.example).toBe('required, but the mapped column is empty in this row');
  });
});
