import { boolean, date, money, phone } from '../assemble/transforms.js';

/**
 * What a column's sampled values look like: the share of non-null values that are US phone
 * numbers, dates, ZIP or ZIP+4 codes, money, yes/no flags, two-letter states, e-mail addresses
 * or person names, and its most common values (for enum maps). The phone, date, money and
 * boolean tests are the transforms the daemon applies, so "looks like" means "the transform
 * accepts it". Pure.
 */
export const SHAPES = ['phone', 'date', 'zip', 'zip4', 'money', 'boolean', 'state', 'email', 'name', 'integer'] as const;
export type Shape = (typeof SHAPES)[number];

export interface ColumnProfile {
  name: string;
  /** `format_type`, e.g. `text`, `date`, `numeric`. */
  type: string;
  sampled: number;
  nonNull: number;
  /** Share (0–1) of the non-null sampled values having each shape. */
  shapes: Record<Shape, number>;
  /** Distinct sampled values, most common first (at most TOP_VALUES). */
  top: Array<{ value: string; count: number }>;
  distinct: number;
  /** The phone formats seen, most common first (`(XXX) XXX-XXXX`, `XXX.XXX.XXXX`…), for explanations. */
  phoneFormats: string[];
}

export const TOP_VALUES = 40;

export const US_STATES = new Set(
  (
    'AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY ' +
    'DC PR VI GU AS MP'
  ).split(' '),
);

const EMAIL = /^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$/;
const NAME = /^\p{L}[\p{L} .'-]*$/u;
const ZIP = /^\d{5}$/;
const ZIP4 = /^\d{5}-?\d{4}$/;
const INTEGER = /^[+-]?\d+$/;

const TEST: Record<Shape, (v: string) => boolean> = {
  phone: (v) => /\d/.test(v) && phone(v).ok,
  date: (v) => date(v, { dateFormat: 'MM-DD-YYYY' }).ok,
  zip: (v) => ZIP.test(v),
  zip4: (v) => ZIP4.test(v),
  money: (v) => money(v).ok,
  boolean: (v) => boolean(v).ok,
  state: (v) => US_STATES.has(v.toUpperCase()),
  email: (v) => EMAIL.test(v),
  name: (v) => NAME.test(v),
  integer: (v) => INTEGER.test(v),
};

/** `555.123.4567` → `XXX.XXX.XXXX`. */
const formatOf = (v: string): string => v.trim().replace(/\d/g, 'X');

export function profileColumn(name: string, type: string, values: ReadonlyArray<string | null>): ColumnProfile {
  const counts = new Map<string, number>();
  const formats = new Map<string, number>();
  const hits = Object.fromEntries(SHAPES.map((s) => [s, 0])) as Record<Shape, number>;
  let nonNull = 0;
  for (const raw of values) {
    if (raw === null) continue;
    const v = raw.trim();
    if (v === '') continue;
    nonNull++;
    counts.set(raw, (counts.get(raw) ?? 0) + 1);
    for (const s of SHAPES) if (TEST[s](v)) hits[s]++;
    if (TEST.phone(v)) formats.set(formatOf(v), (formats.get(formatOf(v)) ?? 0) + 1);
  }
  const shapes = Object.fromEntries(SHAPES.map((s) => [s, nonNull ? hits[s] / nonNull : 0])) as Record<Shape, number>;
  const top = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
  const phoneFormats = [...formats].sort((a, b) => b[1] - a[1]).map(([f]) => f);
  return { name, type, sampled: values.length, nonNull, shapes, top: top.slice(0, TOP_VALUES), distinct: counts.size, phoneFormats };
}

/** `0.973` → `97 %`; small shares keep a decimal (`2.5 %`). */
export function percent(share: number): string {
  const p = share * 100;
  if (p > 0 && p < 10 && Math.round(p) !== p) return `${p.toFixed(1)} %`;
  return `${Math.round(p)} %`;
}

/** `12345` → `12,345`. */
export const count = (n: number): string => n.toLocaleString('en-US');

export const DATE_TYPES = new Set(['date', 'timestamp without time zone', 'timestamp with time zone']);
export const NUMERIC_TYPES = new Set(['numeric', 'money', 'real', 'double precision', 'integer', 'bigint', 'smallint']);
export const INTEGER_TYPES = new Set(['integer', 'bigint', 'smallint']);
export const TEXT_TYPES = new Set(['text', 'character varying', 'character', 'citext']);
