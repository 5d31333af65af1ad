import type { Transform } from '../config/schema.js';

/**
 * The value transforms of the config (docs/config-reference.md), as pure functions over the text
 * Postgres gives us.
 *
 * Every value is read from SQL as text (`to_jsonb(expr) #>> '{}'`, see ./query.ts), so a date
 * never becomes a JS Date at local midnight (docs/replication.md, trap 10) and a numeric keeps its
 * digits. A transform either returns the ACA value or a reason the record cannot be valid.
 */
export type AcaValue = string | number | boolean;
export type TransformResult = { ok: true; value: AcaValue | null } | { ok: false; reason: string };

export type DateFormat = 'MM-DD-YYYY' | 'MM/DD/YYYY' | 'YYYY-MM-DD';
export interface TransformOptions {
  dateFormat: DateFormat;
  /** IANA zone whose calendar day a date-time with an offset (timestamptz) takes; default UTC. */
  timeZone?: string;
}

const ok = (value: AcaValue | null): TransformResult => ({ ok: true, value });
const fail = (reason: string): TransformResult => ({ ok: false, reason });
const show = (v: unknown) => JSON.stringify(v);

/** A trailing extension: `x123`, `ext. 12`, `ext 12`, `extension 12`, `#12`. */
const PHONE_EXTENSION = /\s*(?:,|;)?\s*(?:x|ext\.?|extn\.?|extension|#)\s*\d{1,6}$/i;

/**
 * Phone → `(XXX) XXX-XXXX`, one of the three formats CareCycle accepts (docs/carecycle-api.md,
 * "Customer fields"). Punctuation and spaces are dropped; 11 digits are fine when the first is the
 * country code 1. An extension is dropped (CareCycle has no field for it). A number written with
 * another country code (`+49 30 123456`) is refused rather than read as ten US digits, and so is
 * one whose area code cannot be North American (it never starts with 0 or 1).
 */
export function phone(input: AcaValue): TransformResult {
  const text = String(input).trim();
  const bare = text.replace(PHONE_EXTENSION, '');
  if (/[^0-9+().\-\s]/.test(bare)) return fail(`${show(text)} is not a phone number (only digits, spaces and + ( ) - . are allowed)`);
  let digits = bare.replace(/\D/g, '');
  // A `+` (or the 00 / 011 dialling prefix) followed by a country code other than 1.
  const international = /^\+/.test(bare) ? !digits.startsWith('1') : /^(?:00|011)/.test(digits) && digits.length > 11;
  if (international) return fail(`${show(text)} is not a US phone number (CareCycle takes only +1 numbers)`);
  if (digits.length === 11 && digits.startsWith('1')) digits = digits.slice(1);
  if (digits.length !== 10)
    return fail(`${show(text)} is not a phone number: expected 10 digits (or 11 starting with 1), found ${digits.length}`);
  if (digits[0] === '0' || digits[0] === '1')
    return fail(`${show(text)} is not a US phone number: a US area code never starts with 0 or 1`);
  return ok(`(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`);
}

/** Leading date forms we accept: ISO (date, timestamp, timestamptz text) or US month-first. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T\s])/;
const US_DATE = /^(\d{2})[-/](\d{2})[-/](\d{4})$/;
/** A date-time with an offset, as Postgres writes a timestamptz (JSON or text form). */
const ZONED = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)$/;

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1]!;
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hourCycle: 'h23' });
    dayFormats.set(timeZone, f);
  }
  return f;
}

/**
 * The calendar day in `timeZone` of a date-time with an offset, as [y, m, d] text; undefined
 * when the text carries no offset (a date or a timestamp without time zone keeps its own day).
 * The offset is in the text, so neither the session's TimeZone nor the process's TZ matters.
 */
export function zonedDay(text: string, timeZone: string): [string, string, string] | undefined {
  const z = ZONED.exec(text);
  if (!z) return undefined;
  const [, y, mo, d, h, mi, s, off] = z as unknown as string[];
  let offsetSec = 0;
  if (off !== 'Z') {
    const sign = off![0] === '-' ? -1 : 1;
    const parts = off!.slice(1).replace(/:/g, '');
    offsetSec = sign * (Number(parts.slice(0, 2)) * 3600 + Number(parts.slice(2, 4) || 0) * 60 + Number(parts.slice(4, 6) || 0));
  }
  const utc = new Date(0);
  utc.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  utc.setUTCHours(Number(h), Number(mi), Number(s) - offsetSec, 0);
  if (Number.isNaN(utc.getTime())) return undefined;
  const parts = dayFormat(timeZone).formatToParts(utc);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return [get('year').padStart(4, '0'), get('month'), get('day')];
}

/**
 * Date, timestamp or ISO text → MM-DD-YYYY (or MM/DD/YYYY, or YYYY-MM-DD). A date or a timestamp
 * keeps its own calendar date; a timestamptz takes its day in `opts.timeZone` (default UTC).
 * No Date object at local midnight, so the process timezone can never shift it.
 */
export function date(input: AcaValue, opts: TransformOptions): TransformResult {
  const text = String(input).trim();
  let y: string, m: string, d: string;
  const zoned = text.length > 10 ? zonedDay(text, opts.timeZone ?? 'UTC') : undefined;
  const iso = zoned ? null : ISO_DATE.exec(text);
  const us = zoned || iso ? null : US_DATE.exec(text);
  if (zoned) [y, m, d] = zoned;
  else if (iso) [, y, m, d] = iso as unknown as [string, string, string, string];
  else if (us) [, m, d, y] = us as unknown as [string, string, string, string];
  else return fail(`${show(text)} is not a date (expected YYYY-MM-DD, a timestamp, or MM-DD-YYYY)`);
  if (!isRealDate(Number(y), Number(m), Number(d))) return fail(`${show(text)} is not a real calendar date`);
  if (Number(y) < 1000) return fail(`${show(text)}: year ${y} is out of range`);
  if (opts.dateFormat === 'YYYY-MM-DD') return ok(`${y}-${m}-${d}`);
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
    case 'phone':
      return phone(input);
    case 'date':
      return date(input, opts);
    case 'zip5':
      return zip5(input);
    case 'integer':
      return integer(input);
    case 'money':
      return money(input);
    case 'boolean':
      return boolean(input);
    case 'trim':
      return trim(input);
    case 'upper':
      return upper(input);
  }
}
