import type { Transform } from '../config/schema.js';

/**
 * The value transforms of DESIGN §4, as pure functions over the text Postgres gives us.
 *
 * Every value is read from SQL as text (`to_jsonb(expr) #>> '{}'`, see ./query.ts), so a date
 * never becomes a JS Date at local midnight (reference/pitfalls.md #15) and a numeric keeps its
 * digits. A transform either returns the ACA value or a reason the record cannot be valid.
 */
export type AcaValue = string | number | boolean;
export type TransformResult = { ok: true; value: AcaValue | null } | { ok: false; reason: string };

export type DateFormat = 'MM-DD-YYYY' | 'MM/DD/YYYY';
export interface TransformOptions {
  dateFormat: DateFormat;
}

const ok = (value: AcaValue | null): TransformResult => ({ ok: true, value });
const fail = (reason: string): TransformResult => ({ ok: false, reason });
const show = (v: unknown) => JSON.stringify(v);

/**
 * Phone → `(XXX) XXX-XXXX`, one of the three formats CareCycle accepts (reference §2.6 #3).
 * Punctuation and spaces are dropped; 11 digits are fine when the first is the country code 1.
 */
export function phone(input: AcaValue): TransformResult {
  const text = String(input).trim();
  if (/[^0-9+().\-\s]/.test(text)) return fail(`${show(text)} is not a phone number (only digits, spaces and + ( ) - . are allowed)`);
  let digits = text.replace(/\D/g, '');
  if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
  if (digits.length !== 10) return fail(`${show(text)} is not a phone number: expected 10 digits (or 11 starting with 1), found ${digits.length}`);
  return ok(`(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`);
}

/** Leading date forms we accept: ISO (date, timestamp, timestamptz text) or US month-first. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T\s])/;
const US_DATE = /^(\d{2})[-/](\d{2})[-/](\d{4})$/;

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

/**
 * Date, timestamp or ISO text → MM-DD-YYYY (or MM/DD/YYYY). Only the text's calendar date is
 * used: no Date object, so the process timezone can never shift it.
 */
export function date(input: AcaValue, opts: TransformOptions): TransformResult {
  const text = String(input).trim();
  let y: string, m: string, d: string;
  const iso = ISO_DATE.exec(text);
  const us = iso ? null : US_DATE.exec(text);
  if (iso) [, y, m, d] = iso as unknown as [string, string, string, string];
  else if (us) [, m, d, y] = us as unknown as [string, string, string, string];
  else return fail(`${show(text)} is not a date (expected YYYY-MM-DD, a timestamp, or MM-DD-YYYY)`);
  if (!isRealDate(Number(y), Number(m), Number(d))) return fail(`${show(text)} is not a real calendar date`);
  if (Number(y) < 1000) return fail(`${show(text)}: year ${y} is out of range`);
  const sep = opts.dateFormat === 'MM/DD/YYYY' ? '/' : '-';
  return ok(`${m}${sep}${d}${sep}${y}`);
}

/** ZIP, ZIP+4 or a ZIP that lost its leading zeros in a numeric column → 5 digits. */
export function zip5(input: AcaValue): TransformResult {
  const text = String(input).trim();
  const m = /^(\d{3,5})(?:-?\d{4})?$/.exec(text);
  if (!m) return fail(`${show(text)} is not a US ZIP code (expected 5 digits, optionally +4)`);
  return ok(m[1]!.padStart(5, '0'));
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Integer text (a whole numeric like "3.00" too) → number within int32, CareCycle's range. */
export function integer(input: AcaValue): TransformResult {
  if (typeof input === 'boolean') return fail(`${show(input)} is not an integer`);
  const text = String(input).trim();
  const m = /^([+-]?\d+)(?:\.0*)?$/.exec(text);
  if (!m) return fail(`${show(text)} is not a whole number`);
  const n = Number(m[1]);
  if (n < INT32_MIN || n > INT32_MAX) return fail(`${show(text)} is outside the 32-bit integer range CareCycle accepts`);
  return ok(n);
}

/**
 * Numeric text → "123.45": two decimals, rounded half away from zero on the decimal digits
 * themselves (Number#toFixed would turn 1.005 into "1.00"). `$` and thousands commas are dropped.
 */
export function money(input: AcaValue): TransformResult {
  if (typeof input === 'boolean') return fail(`${show(input)} is not an amount of money`);
  const text = String(input).trim();
  const m = /^([+-]?)\$?(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === undefined && !m[3])) return fail(`${show(text)} is not an amount of money`);
  const sign = m[1] === '-' ? '-' : '';
  const whole = (m[2] ?? '0').replace(/,/g, '');
  const frac = (m[3] ?? '').padEnd(3, '0');
  let cents = BigInt(whole) * 100n + BigInt(frac.slice(0, 2));
  if (Number(frac[2]) >= 5) cents += 1n;
  const abs = cents.toString().padStart(3, '0');
  const out = `${abs.slice(0, -2)}.${abs.slice(-2)}`;
  return ok(cents === 0n ? out : sign + out);
}

const TRUE_WORDS = new Set(['true', 't', 'y', 'yes', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'f', 'n', 'no', '0', 'off']);

/** true/false, t/f, Y/N, yes/no, 1/0, on/off (any case) → boolean. */
export function boolean(input: AcaValue): TransformResult {
  if (typeof input === 'boolean') return ok(input);
  const text = String(input).trim().toLowerCase();
  if (TRUE_WORDS.has(text)) return ok(true);
  if (FALSE_WORDS.has(text)) return ok(false);
  return fail(`${show(String(input))} is not a yes/no value (expected true/false, t/f, Y/N, yes/no, 1/0)`);
}

/** Trims whitespace; an all-blank value counts as absent. */
export function trim(input: AcaValue): TransformResult {
  const text = String(input).trim();
  return ok(text === '' ? null : text);
}

export function upper(input: AcaValue): TransformResult {
  return ok(String(input).toUpperCase());
}

export function applyTransform(name: Transform, input: AcaValue, opts: TransformOptions): TransformResult {
  switch (name) {
    case 'phone': return phone(input);
    case 'date': return date(input, opts);
    case 'zip5': return zip5(input);
    case 'integer': return integer(input);
    case 'money': return money(input);
    case 'boolean': return boolean(input);
    case 'trim': return trim(input);
    case 'upper': return upper(input);
  }
}
