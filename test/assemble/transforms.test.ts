import { describe, it, expect } from 'vitest';
import { applyTransform, boolean, date, integer, money, phone, trim, upper, zip5 } from '../../src/assemble/transforms.js';

const mdy = { dateFormat: 'MM-DD-YYYY' as const };
const okValue = (r: ReturnType<typeof phone>) => (r.ok ? r.value : `FAIL: ${r.reason}`);

describe('phone', () => {
  it.each([
    ['5551234567', '(555) 123-4567'],
    ['555-123-4567', '(555) 123-4567'],
    ['(555) 123-4567', '(555) 123-4567'],
    ['555.123.4567', '(555) 123-4567'],
    ['+1 555 123 4567', '(555) 123-4567'],
    ['15551234567', '(555) 123-4567'],
    [' 1-555-123-4567 ', '(555) 123-4567'],
    // Extensions are dropped: CareCycle has no field for them.
    ['555 123 4567 x12', '(555) 123-4567'],
    ['555-123-4567x123', '(555) 123-4567'],
    ['(555) 123-4567 ext. 12', '(555) 123-4567'],
    ['555.123.4567 ext 9', '(555) 123-4567'],
    ['555-123-4567 Extension 42', '(555) 123-4567'],
    ['+1 555 123 4567 #7', '(555) 123-4567'],
    ['555-123-4567, x5', '(555) 123-4567'],
  ])('%s → %s', (input, out) => expect(okValue(phone(input))).toBe(out));

  it.each(['555-1234', '25551234567', '555123456789', '555-CALL-NOW', '555 123 4567 x', '555 123 4567 ext. twelve'])(
    'rejects %j with a reason',
    (input) => {
      const r = phone(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toContain('not a phone number');
    },
  );

  it.each([
    ['+49 30 123456', 'not a US phone number'],
    ['+44 20 7946 0958', 'not a US phone number'],
    ['+52 55 1234 5678', 'not a US phone number'],
    ['0049 30 1234567', 'not a US phone number'],
    ['011 49 30 123456', 'not a US phone number'],
    ['0301234567', 'area code never starts with 0 or 1'],
    ['1301234567', 'area code never starts with 0 or 1'],
  ])('refuses the non-US number %j instead of mangling it', (input, reason) => {
    const r = phone(input);
    expect(r).toMatchObject({ ok: false });
    if (!r.ok) expect(r.reason).toContain(reason);
  });
});

describe('date', () => {
  it.each([
    ['1990-07-04', '07-04-1990'],
    ['1990-07-04T00:00:00', '07-04-1990'],
    // A timestamptz takes its day in sync.timeZone (default UTC), whatever offset it was written with.
    ['1990-07-04T23:30:00-08:00', '07-05-1990'],
    ['1990-07-04T16:30:00-08:00', '07-05-1990'],
    ['1990-07-04T15:59:59.5-08:00', '07-04-1990'],
    ['1990-07-05T08:30:00+09:00', '07-04-1990'],
    ['1990-07-04 23:30:00+00', '07-04-1990'],
    ['1990-07-04T23:30:00Z', '07-04-1990'],
    ['1990-07-04T23:30:00+05:30', '07-04-1990'],
    ['07/04/1990', '07-04-1990'],
    ['07-04-1990', '07-04-1990'],
    ['2024-02-29', '02-29-2024'],
  ])('%s → %s', (input, out) => expect(okValue(date(input, mdy))).toBe(out));

  it('honours sync.dateFormat MM/DD/YYYY and sync.policyDateFormat YYYY-MM-DD', () => {
    expect(okValue(date('1990-07-04', { dateFormat: 'MM/DD/YYYY' }))).toBe('07/04/1990');
    expect(okValue(date('1990-07-04', { dateFormat: 'YYYY-MM-DD' }))).toBe('1990-07-04');
    expect(okValue(date('07/04/1990', { dateFormat: 'YYYY-MM-DD' }))).toBe('1990-07-04');
    expect(okValue(date('1990-07-04T23:30:00-08:00', { dateFormat: 'YYYY-MM-DD' }))).toBe('1990-07-05');
  });

  it.each([
    ['UTC', '1990-07-04T23:30:00-08:00', '07-05-1990'],
    ['America/Los_Angeles', '1990-07-04T23:30:00-07:00', '07-04-1990'],
    ['America/Los_Angeles', '1990-01-04T23:30:00-08:00', '01-04-1990'],
    ['America/Los_Angeles', '1990-07-05T06:59:00+00:00', '07-04-1990'],
    ['America/Los_Angeles', '1990-07-05T07:00:00+00:00', '07-05-1990'],
    ['Asia/Tokyo', '1990-07-04T15:00:00+00', '07-05-1990'],
    ['Asia/Tokyo', '1990-07-04 14:59:59+00', '07-04-1990'],
    ['Pacific/Kiritimati', '2024-12-31T10:00:00Z', '01-01-2025'],
    // A date or a timestamp without time zone keeps its own day in any zone.
    ['Asia/Tokyo', '1990-07-04', '07-04-1990'],
    ['Pacific/Kiritimati', '1990-07-04T23:30:00', '07-04-1990'],
  ])('sync.timeZone %s: %s → %s', (timeZone, input, out) => {
    expect(okValue(date(input, { ...mdy, timeZone }))).toBe(out);
  });

  it.each(['2023-02-29', '1990-13-01', '1990-04-31', 'July 4th', '19900704', 'infinity', '0099-01-01'])('rejects %j', (input) => {
    expect(date(input, mdy).ok).toBe(false);
  });

  it('does not depend on the process timezone (no Date object involved)', () => {
    const before = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      expect(okValue(date('2000-01-01', mdy))).toBe('01-01-2000');
    } finally {
      process.env.TZ = before;
    }
  });
});

describe('zip5, integer, money, boolean, trim, upper', () => {
  it('zip5 keeps 5 digits, drops +4, restores leading zeros of numeric columns', () => {
    expect(okValue(zip5('90210'))).toBe('90210');
    expect(okValue(zip5('90210-1234'))).toBe('90210');
    expect(okValue(zip5('902101234'))).toBe('90210');
    expect(okValue(zip5('2134'))).toBe('02134');
    expect(zip5('ABCDE').ok).toBe(false);
    expect(zip5('12').ok).toBe(false);
  });

  it('integer accepts whole numbers in int32 only', () => {
    expect(okValue(integer('42'))).toBe(42);
    expect(okValue(integer('-3'))).toBe(-3);
    expect(okValue(integer('3.00'))).toBe(3);
    expect(integer('3.5').ok).toBe(false);
    expect(integer('2147483648').ok).toBe(false);
    expect(integer('many').ok).toBe(false);
  });

  it('money gives two decimals with exact decimal rounding', () => {
    expect(okValue(money('123.45'))).toBe('123.45');
    expect(okValue(money('100.5'))).toBe('100.50');
    expect(okValue(money('7'))).toBe('7.00');
    expect(okValue(money('1.005'))).toBe('1.01');
    expect(okValue(money('-2.345'))).toBe('-2.35');
    expect(okValue(money('$1,234.5'))).toBe('1234.50');
    expect(okValue(money('.5'))).toBe('0.50');
    expect(okValue(money('12345678901234567890.99'))).toBe('12345678901234567890.99');
    expect(money('12,34').ok).toBe(false);
    expect(money('1e3').ok).toBe(false);
    expect(money('').ok).toBe(false);
  });

  it.each([
    ['true', true],
    ['t', true],
    ['Y', true],
    ['yes', true],
    ['1', true],
    ['ON', true],
    ['false', false],
    ['f', false],
    ['n', false],
    ['No', false],
    ['0', false],
  ])('boolean %s → %s', (input, out) => expect(okValue(boolean(input))).toBe(out));

  it('boolean rejects anything else', () => {
    const r = boolean('maybe');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('"maybe"');
  });

  it('trim and upper', () => {
    expect(okValue(trim('  Ana '))).toBe('Ana');
    expect(okValue(trim('   '))).toBe(null);
    expect(okValue(upper('m'))).toBe('M');
    expect(okValue(applyTransform('upper', 'ca', mdy))).toBe('CA');
  });
});

describe('the kind transforms are idempotent', () => {
  // src/assemble/values.ts skips coercing a value a second time when the field's transform is
  // its kind transform; that is only right if applying it again changes nothing.
  const inputs = [
    '5551234567',
    ' 1-555-123-4567 ',
    '2024-02-29',
    '2024-02-29T10:00:00+00:00',
    '07/04/1990',
    '07-04-1990',
    '603',
    '60601-1234',
    '3.00',
    '-7',
    '1,234.5',
    '$0.005',
    '-0.004',
    '12',
    't',
    'No',
    'ON',
    '0',
  ];
  for (const name of ['phone', 'date', 'zip5', 'integer', 'money', 'boolean'] as const) {
    for (const dateFormat of ['MM-DD-YYYY', 'MM/DD/YYYY'] as const) {
      it(`${name} (${dateFormat})`, () => {
        let applied = 0;
        for (const input of inputs) {
          const once = applyTransform(name, input, { dateFormat });
          if (!once.ok || once.value === null) continue;
          applied++;
          expect(applyTransform(name, once.value, { dateFormat })).toEqual(once);
        }
        expect(applied).toBeGreaterThan(0);
      });
    }
  }
});
