import { ENUM_FIELDS } from '../carecycle/enums.js';

/**
 * Enum `map`s built from a column's sampled distinct values: `M`/`F`/`U`, `1`/`2`/`9` (ISO 5218),
 * `active`/`cancelled`/`term`, `A`/`C`/`T` → CareCycle's values. Values that mean "unknown" get no
 * CareCycle value (there is none to send); values nobody recognises are left for the user and
 * listed. Pure.
 */

/** Normalised CRM word → CareCycle value, per enum field. */
const WORDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  gender: {
    m: 'Male',
    male: 'Male',
    man: 'Male',
    boy: 'Male',
    f: 'Female',
    female: 'Female',
    woman: 'Female',
    w: 'Female',
    girl: 'Female',
    nb: 'Non-Binary',
    'non binary': 'Non-Binary',
    nonbinary: 'Non-Binary',
    x: 'Non-Binary',
    o: 'Other',
    other: 'Other',
    'prefer not to say': 'Prefer Not to Say',
    declined: 'Prefer Not to Say',
    'decline to state': 'Prefer Not to Say',
    'prefer not to answer': 'Prefer Not to Say',
  },
  maritalStatus: {
    s: 'Single',
    single: 'Single',
    'never married': 'Single',
    unmarried: 'Single',
    m: 'Married',
    married: 'Married',
    d: 'Divorced',
    divorced: 'Divorced',
    w: 'Widowed',
    widowed: 'Widowed',
    widow: 'Widowed',
    widower: 'Widowed',
    sep: 'Separated',
    separated: 'Separated',
    p: 'Domestic Partnership',
    dp: 'Domestic Partnership',
    'domestic partner': 'Domestic Partnership',
    'domestic partnership': 'Domestic Partnership',
    partner: 'Domestic Partnership',
  },
  status: {
    a: 'Active',
    act: 'Active',
    active: 'Active',
    effectuated: 'Active',
    inforce: 'Active',
    'in force': 'Active',
    enrolled: 'Active',
    eff: 'Active',
    p: 'Pending',
    pend: 'Pending',
    pending: 'Pending',
    submitted: 'Pending',
    new: 'Pending',
    'pending payment': 'Pending',
    pe: 'Pending Effectuation',
    'pending effectuation': 'Pending Effectuation',
    pf: 'Pending Followup',
    'pending followup': 'Pending Followup',
    'pending follow up': 'Pending Followup',
    s: 'Suspended',
    susp: 'Suspended',
    suspended: 'Suspended',
    hold: 'Suspended',
    'on hold': 'Suspended',
    c: 'Cancelled',
    cx: 'Cancelled',
    cxl: 'Cancelled',
    canc: 'Cancelled',
    cncl: 'Cancelled',
    cancelled: 'Cancelled',
    canceled: 'Cancelled',
    void: 'Cancelled',
    voided: 'Cancelled',
    t: 'Terminated',
    term: 'Terminated',
    termed: 'Terminated',
    terminated: 'Terminated',
    ended: 'Terminated',
    expired: 'Terminated',
    lapsed: 'Terminated',
    inactive: 'Terminated',
    fc: 'Future Cancel',
    'future cancel': 'Future Cancel',
    'future cancellation': 'Future Cancel',
    d: 'Deceased',
    dec: 'Deceased',
    deceased: 'Deceased',
    na: 'Not Approved',
    'not approved': 'Not Approved',
    denied: 'Not Approved',
    declined: 'Not Approved',
    rejected: 'Not Approved',
  },
  metalLevel: {
    cat: 'Catastrophic',
    catastrophic: 'Catastrophic',
    c: 'Catastrophic',
    b: 'Bronze',
    bronze: 'Bronze',
    xb: 'Expanded Bronze',
    eb: 'Expanded Bronze',
    'expanded bronze': 'Expanded Bronze',
    'bronze expanded': 'Expanded Bronze',
    s: 'Silver',
    silver: 'Silver',
    g: 'Gold',
    gold: 'Gold',
    p: 'Platinum',
    plat: 'Platinum',
    platinum: 'Platinum',
  },
};

/** ISO/IEC 5218 sex codes, used for gender when every value is one of them. */
const ISO_5218: Readonly<Record<string, string | null>> = { '0': null, '1': 'Male', '2': 'Female', '9': null };

const UNKNOWN = new Set(['u', 'unk', 'unknown', 'n/a', 'na', 'none', 'not specified', 'unspecified', 'not known', '?', 'null', '-']);

export const normalise = (v: string): string =>
  v
    .trim()
    .toLowerCase()
    .replace(/[_\s]+/g, ' ')
    .replace(/-/g, ' ')
    .replace(/\s+/g, ' ');

export interface EnumProposal {
  /** CRM value (exactly as read) → CareCycle value. */
  map: Record<string, string>;
  /** Values read as "unknown": CareCycle has no value for them, so they are sent as no value. */
  unknown: string[];
  /** Values the map does not cover: records carrying them are invalid until the map has them. */
  uncovered: string[];
  /** Share of sampled non-null values the map (or the unknowns) covers. */
  covered: number;
}

/** Builds the map for `field` from sampled distinct values with their counts. */
export function proposeEnumMap(field: string, top: ReadonlyArray<{ value: string; count: number }>): EnumProposal {
  const words = WORDS[field] ?? {};
  const allowed = ENUM_FIELDS[field] ?? [];
  const iso = field === 'gender' && top.length > 0 && top.every((v) => v.value.trim() in ISO_5218);
  const out: EnumProposal = { map: {}, unknown: [], uncovered: [], covered: 0 };
  let total = 0;
  let covered = 0;
  for (const { value, count } of top) {
    total += count;
    const n = normalise(value);
    const exact = allowed.find((a) => normalise(a) === n);
    const target = iso ? ISO_5218[value.trim()] : (exact ?? words[n]);
    if (target) {
      out.map[value] = target;
      covered += count;
    } else if (target === null || UNKNOWN.has(n) || n === '') {
      out.unknown.push(value);
      covered += count;
    } else {
      out.uncovered.push(value);
    }
  }
  out.covered = total ? covered / total : 0;
  // Keys in order, so the same data gives the same file.
  out.map = Object.fromEntries(Object.entries(out.map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return out;
}

/** Does the column look like this enum at all (most sampled values recognised)? */
export const looksLikeEnum = (p: EnumProposal): boolean => Object.keys(p.map).length > 0 && p.covered >= 0.6;
