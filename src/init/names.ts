/**
 * Column names as words: `first_nm`, `FirstName`, `cust_fname` and `firstName` all become the
 * words a person reads, with common CRM abbreviations spelled out, so one synonym list per ACA
 * field matches every naming style. Pure.
 */

/** Abbreviations seen in CRM schemas → the word they stand for. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  nm: 'name',
  nme: 'name',
  fname: 'first name',
  lname: 'last name',
  mname: 'middle name',
  fnm: 'first name',
  lnm: 'last name',
  fst: 'first',
  frst: 'first',
  lst: 'last',
  given: 'first',
  surname: 'last name',
  family: 'last',
  forename: 'first name',
  dt: 'date',
  dte: 'date',
  dob: 'birth date',
  bdate: 'birth date',
  bday: 'birth date',
  birthdate: 'birth date',
  birthday: 'birth date',
  no: 'number',
  num: 'number',
  nbr: 'number',
  nr: 'number',
  cd: 'code',
  amt: 'amount',
  addr: 'address',
  adr: 'address',
  ph: 'phone',
  phn: 'phone',
  tel: 'phone',
  telephone: 'phone',
  cell: 'mobile',
  cellphone: 'mobile',
  mobile: 'mobile',
  st: 'state',
  zipcode: 'zip',
  postcode: 'zip',
  postal: 'zip',
  eff: 'effective',
  term: 'termination',
  termdate: 'termination date',
  prem: 'premium',
  mo: 'monthly',
  mthly: 'monthly',
  sex: 'gender',
  gndr: 'gender',
  mar: 'marital',
  marital: 'marital',
  stat: 'status',
  sts: 'status',
  cxl: 'cancelled',
  canc: 'cancelled',
  hs: 'healthsherpa',
  healthsherpa: 'healthsherpa',
  carr: 'carrier',
  dnc: 'do not call',
  optout: 'opt out',
  emailaddress: 'email',
  lob: 'line business',
  metal: 'metal',
  tier: 'metal',
  cnty: 'county',
  cty: 'city',
  enr: 'enrollment',
  src: 'source',
  ref: 'reference',
};

/** Words that only say which table a column belongs to (`cust_first_name`, `clientPhone`). */
const TABLE_WORDS = new Set([
  'customer',
  'cust',
  'client',
  'clnt',
  'member',
  'mbr',
  'person',
  'contact',
  'insured',
  'primary',
  'applicant',
  'subscriber',
  'policy',
  'pol',
  'enrollment',
  'coverage',
  'the',
]);

/** Splits a SQL identifier into lower-case words: `policyStatus` → [policy, status], `first_nm` → [first, nm]. */
export function splitWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([A-Za-z])(\d)/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/** The words of a column name with abbreviations expanded: `first_nm` → `first name`, `dob` → `birth date`. */
export function expandedWords(name: string): string[] {
  const words = splitWords(name).flatMap((w) => (ABBREVIATIONS[w] ?? w).split(' '));
  // `healthSherpaId` and `health_sherpa_id` name one thing, as `hs_id` does.
  return words
    .join(' ')
    .replace(/\bhealth sherpa\b/g, 'healthsherpa')
    .split(' ');
}

/** The expanded words without table words in front (`cust_first_name` → `first name`), unless nothing would be left. */
export function meaningfulWords(name: string): string[] {
  const words = expandedWords(name);
  const stripped = words.filter((w, i) => !(TABLE_WORDS.has(w) && i < words.length - 1));
  return stripped.length > 0 ? stripped : words;
}

export const phrase = (name: string): string => meaningfulWords(name).join(' ');

/** Does the column's phrase equal, or end with, or contain as whole words, the synonym? */
export function nameScore(column: string, synonyms: readonly string[]): { score: number; synonym?: string } {
  const p = phrase(column);
  const full = expandedWords(column).join(' ');
  for (let i = 0; i < synonyms.length; i++) {
    const s = synonyms[i]!;
    // Earlier synonyms are the likelier meaning: `mobile` before `phone` before `home phone`.
    const rank = 1 - i * 0.01;
    if (p === s || full === s) return { score: rank, synonym: s };
  }
  // Inside a longer name only a phrase of several words, or the name's last word(s): `monthly
  // premium` holds `premium`, but `last updated` is not a last name.
  for (let i = 0; i < synonyms.length; i++) {
    const s = synonyms[i]!;
    const inside = s.includes(' ') ? ` ${p} `.includes(` ${s} `) : false;
    if (inside || p.endsWith(` ${s}`)) return { score: 0.7 - i * 0.01, synonym: s };
  }
  return { score: 0 };
}

/** Singular of a table name, for `<table>_id` foreign keys: `clients` → `client`, `policies` → `policy`. */
export function singular(word: string): string {
  if (/ies$/.test(word)) return word.replace(/ies$/, 'y');
  if (/(ss|us)$/.test(word)) return word;
  if (/(ses|xes|ches|shes)$/.test(word)) return word.replace(/es$/, '');
  return word.replace(/s$/, '');
}
