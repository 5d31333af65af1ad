import { quoteIdent } from '../pg/names.js';
import { expandedWords, phrase, singular, splitWords } from './names.js';
import { candidatesFor } from './fields.js';
import { count, DATE_TYPES, INTEGER_TYPES, percent, type ColumnProfile } from './profile.js';
import { CUSTOMER_TARGETS, POLICY_TARGETS } from './targets.js';
import { normalise } from './enum-maps.js';

/**
 * Which table holds the customers, which the policies, which others point at a customer (watch
 * candidates), and which column marks a row as deleted. Pure: the catalog and the samples come
 * in as SampledTable.
 */
export interface SampledTable {
  schema: string;
  name: string;
  primaryKey: string[];
  /** Single-column foreign keys. */
  foreignKeys: Array<{ column: string; refSchema: string; refTable: string }>;
  estimatedRows: number;
  /** How the sample was read, for the comment: `TABLESAMPLE SYSTEM (0.1) LIMIT 1000`, `LIMIT 1000`. */
  sampleMethod: string;
  columns: ColumnProfile[];
  /** Primary key values of the sampled rows (text), for the preview. */
  sampledKeys: string[];
}

export const tableRef = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;

const CUSTOMER_TABLE_WORDS = [
  'customer',
  'client',
  'contact',
  'member',
  'person',
  'people',
  'lead',
  'insured',
  'prospect',
  'account',
  'consumer',
  'applicant',
];
const POLICY_TABLE_WORDS = ['policy', 'policies', 'enrollment', 'coverage', 'plan', 'contract', 'application'];

const targetsOf = (fields: string[], list = CUSTOMER_TARGETS) => list.filter((t) => fields.includes(t.field));
const tableWords = (t: SampledTable): string[] => splitWords(t.name).map(singular);

export interface TableScore {
  table: SampledTable;
  score: number;
  /** What was found (or what was missing), for explanations. */
  found: string[];
  missing: string[];
}

/** The customer table: a single-column primary key, name-like and phone-like columns. */
export function customerScore(t: SampledTable): TableScore {
  const found: string[] = [];
  const missing: string[] = [];
  if (t.primaryKey.length !== 1) return { table: t, score: 0, found, missing: ['a single-column primary key'] };
  let score = 0;
  const weights: Record<string, number> = { firstName: 2, lastName: 2, phoneNumber: 2, email: 0.5, dateOfBirth: 0.5, postalCode: 0.5 };
  for (const target of targetsOf(Object.keys(weights))) {
    const best = candidatesFor(
      target,
      t.columns.filter((c) => c.name !== t.primaryKey[0]),
    )[0];
    if (best && best.score > 0) {
      score += weights[target.field]! * best.score;
      found.push(`${target.field}-like ${best.column.name}`);
    } else if (weights[target.field]! >= 2) missing.push(`a ${target.field} column`);
  }
  if (tableWords(t).some((w) => CUSTOMER_TABLE_WORDS.includes(w))) score += 1;
  if (tableWords(t).some((w) => POLICY_TABLE_WORDS.includes(w))) score -= 1;
  return { table: t, score, found, missing };
}

/** Is the customer table found well enough to propose it? Names and a phone, or names and a customer-like table name. */
export const isCustomerTable = (s: TableScore): boolean => s.score >= 4.5;

/** The column of `t` that holds a key of `customers`: a foreign key to it, else a name like `client_id`. */
export function customerKeyOf(t: SampledTable, customers: SampledTable): { column: string; why: string } | undefined {
  const fk = t.foreignKeys.find((f) => f.refSchema === customers.schema && f.refTable === customers.name);
  if (fk) return { column: fk.column, why: `foreign key ${fk.column} → ${tableRef(customers)}` };
  const own = singular(splitWords(customers.name).join(' '));
  const names = new Set([`${own} id`, `${own.replace(/ /g, '')} id`, ...CUSTOMER_TABLE_WORDS.map((w) => `${w} id`)]);
  const col = t.columns.find((c) => names.has(expandedWords(c.name).join(' ')) && c.name !== t.primaryKey[0]);
  return col
    ? { column: col.name, why: `column ${col.name} is named like a key of ${tableRef(customers)} (no foreign key declared)` }
    : undefined;
}

/** Policy-likeness of a table that has a customer key. */
export function policyScore(t: SampledTable, customerKey: string): TableScore {
  const found: string[] = [];
  let score = 0;
  if (tableWords(t).some((w) => POLICY_TABLE_WORDS.includes(w))) {
    score += 2;
    found.push(`its name (${t.name})`);
  }
  const wanted = [
    'planName',
    'carrierName',
    'status',
    'effectiveDate',
    'monthlyPremium',
    'metalLevel',
    'healthSherpaPolicyId',
    'carrierAssignedPolicyId',
    'policyNumber',
  ];
  const columns = t.columns.filter((c) => c.name !== customerKey && c.name !== t.primaryKey[0]);
  for (const target of targetsOf(wanted, POLICY_TARGETS)) {
    const best = candidatesFor(target, columns)[0];
    if (best && best.score > 0 && best.nameScore > 0) {
      score += 1;
      found.push(`${target.field}-like ${best.column.name}`);
    }
  }
  return { table: t, score, found, missing: [] };
}

export interface Filter {
  column: string;
  sql: string;
  why: string;
}

const DELETED_AT = [
  'deleted at',
  'deleted on',
  'deleted date',
  'archived at',
  'archived on',
  'archived date',
  'removed at',
  'deleted',
  'archived',
];
const DELETED_FLAG = ['is deleted', 'deleted', 'is archived', 'archived', 'deleted flag', 'delete flag', 'is removed', 'removed'];
const ACTIVE_FLAG = ['active', 'is active', 'active flag', 'active indicator'];

const isTrue = (v: string): boolean => ['true', 't', 'y', 'yes', '1'].includes(v.trim().toLowerCase());

function flagShare(col: ColumnProfile, truthy: boolean): number {
  const hits = col.top.filter((v) => isTrue(v.value) === truthy).reduce((n, v) => n + v.count, 0);
  return col.sampled ? hits / col.sampled : 0;
}

/** A flag column's predicate "this row is live", for boolean, integer or Y/N text flags. */
function flagSql(col: ColumnProfile, liveWhenTrue: boolean): string | undefined {
  const q = quoteIdent(col.name);
  if (col.type === 'boolean') return liveWhenTrue ? `${q} IS NOT FALSE` : `${q} IS NOT TRUE`;
  if (INTEGER_TYPES.has(col.type)) return liveWhenTrue ? `coalesce(${q}, 1) <> 0` : `coalesce(${q}, 0) = 0`;
  if (col.top.every((v) => /^(y|n|yes|no|t|f|true|false|0|1)$/i.test(v.value.trim()))) {
    return liveWhenTrue
      ? `upper(coalesce(${q}, 'Y')) IN ('Y', 'YES', 'T', 'TRUE', '1')`
      : `upper(coalesce(${q}, 'N')) IN ('N', 'NO', 'F', 'FALSE', '0')`;
  }
  return undefined;
}

/** A soft-delete column becomes the table's `where`. Policies keep inactive rows (their status says so). */
export function softDeleteFilter(t: SampledTable, opts: { activeFlags: boolean }): Filter | undefined {
  for (const col of t.columns) {
    const p = phrase(col.name);
    if (DATE_TYPES.has(col.type) && DELETED_AT.includes(p)) {
      const gone = col.sampled ? col.nonNull / col.sampled : 0;
      return {
        column: col.name,
        sql: `${quoteIdent(col.name)} IS NULL`,
        why: `${col.name} marks deleted rows: set in ${percent(gone)} of ${count(col.sampled)} sampled rows`,
      };
    }
    if (DELETED_FLAG.includes(p) || (opts.activeFlags && ACTIVE_FLAG.includes(p))) {
      const live = ACTIVE_FLAG.includes(p);
      const sql = flagSql(col, live);
      if (!sql) continue;
      const gone = flagShare(col, !live);
      return {
        column: col.name,
        sql,
        why: `${col.name} is a soft-delete flag: ${percent(gone)} of ${count(col.sampled)} sampled rows are ${live ? 'inactive' : 'deleted'}`,
      };
    }
  }
  return undefined;
}

const LINE_OF_BUSINESS = [
  'line business',
  'line of business',
  'product type',
  'policy type',
  'coverage type',
  'product line',
  'business line',
  'plan type',
];
const ACA_WORDS = new Set([
  'aca',
  'marketplace',
  'obamacare',
  'ifp',
  'exchange',
  'on exchange',
  'individual family',
  'individual health',
  'major medical',
]);

/** A line-of-business column with ACA and other values: only the ACA rows are CareCycle's ACA policies. */
export function lineOfBusinessFilter(t: SampledTable): Filter | undefined {
  for (const col of t.columns) {
    if (!LINE_OF_BUSINESS.includes(phrase(col.name)) && !LINE_OF_BUSINESS.includes(expandedWords(col.name).join(' '))) continue;
    const aca = col.top.filter((v) => ACA_WORDS.has(normalise(v.value)));
    if (aca.length === 0) continue;
    const share = aca.reduce((n, v) => n + v.count, 0) / Math.max(1, col.nonNull);
    const values = aca.map((v) => `'${v.value.replace(/'/g, "''")}'`);
    const sql = values.length === 1 ? `${quoteIdent(col.name)} = ${values[0]}` : `${quoteIdent(col.name)} IN (${values.join(', ')})`;
    const others = col.top.filter((v) => !aca.includes(v)).map((v) => v.value);
    return {
      column: col.name,
      sql,
      why: `${col.name} is a line of business: ${percent(share)} of sampled policies are ACA${others.length ? ` (others: ${others.slice(0, 5).join(', ')})` : ''}`,
    };
  }
  return undefined;
}
