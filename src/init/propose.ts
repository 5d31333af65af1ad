import { chooseFields, type FieldChoice, type FieldResult } from './fields.js';
import { phrase } from './names.js';
import { count } from './profile.js';
import {
  customerKeyOf,
  customerScore,
  isCustomerTable,
  lineOfBusinessFilter,
  policyScore,
  softDeleteFilter,
  tableRef,
  type Filter,
  type SampledTable,
  type TableScore,
} from './tables.js';
import { CUSTOM_FIELD_HINTS, CUSTOMER_TARGETS, POLICY_TARGETS } from './targets.js';

/**
 * The whole proposal from the sampled catalog: tables, keys, filters, fields and the reasons,
 * or what was looked for when no table looks like customers. Pure; ./render.ts writes it as YAML.
 */
export interface TableProposal {
  table: SampledTable;
  key: string;
  why: string[];
  where?: Filter[];
  fields: FieldChoice[];
  missing: FieldResult['missing'];
  /** Columns left out, for the comment. */
  unmapped: string[];
}

export interface Proposal {
  customers: TableProposal & { customFields: FieldChoice[] };
  policies?: TableProposal & { customerKey: string };
  watch: Array<{ table: SampledTable; customerKey: string; why: string }>;
  /** Tables not used, with the reason. */
  skipped: string[];
}

export interface NoCustomerTable {
  lookedFor: string;
  tables: string[];
}

export const LOOKED_FOR =
  'a table with a single-column primary key and columns for first name, last name and phone ' +
  '(first_name, fname, given_name, first_nm…; last_name, lname, surname…; phone, mobile, cell, phone1…)';

function describeScore(s: TableScore): string {
  const parts = [...s.found.map((f) => `has ${f}`), ...s.missing.map((m) => `no ${m}`)];
  return `${tableRef(s.table)}: ${parts.join(', ') || 'nothing customer-like'}`;
}

function customFieldsOf(t: SampledTable, used: ReadonlySet<string>): FieldChoice[] {
  return t.columns
    .filter((c) => !used.has(c.name) && c.nonNull > 0 && CUSTOM_FIELD_HINTS.some((h) => ` ${phrase(c.name)} `.includes(` ${h} `)))
    .map((c) => ({
      field: c.name,
      column: c.name,
      spec: c.name,
      why: [
        `${c.name}: looks like a lead or campaign attribute (${count(c.distinct)} distinct sampled values); the key must exist among CareCycle's custom fields`,
      ],
    }));
}

function tableProposal(
  t: SampledTable,
  key: string,
  why: string[],
  fields: FieldResult,
  exclude: ReadonlySet<string>,
  where: Filter[],
): TableProposal {
  const unmapped = t.columns.map((c) => c.name).filter((c) => !fields.usedColumns.has(c) && !exclude.has(c));
  const out: TableProposal = { table: t, key, why, fields: fields.chosen, missing: fields.missing, unmapped };
  if (where.length) out.where = where;
  return out;
}

function proposeCustomers(s: TableScore): Proposal['customers'] {
  const t = s.table;
  const key = t.primaryKey[0]!;
  const where = softDeleteFilter(t, { activeFlags: true });
  const exclude = new Set([key, ...(where ? [where.column] : [])]);
  const fields = chooseFields(CUSTOMER_TARGETS, t.columns, exclude);
  const customFields = customFieldsOf(t, new Set([...fields.usedColumns, ...exclude]));
  for (const c of customFields) exclude.add(c.column);
  const why = [
    `${tableRef(t)} holds the customers: primary key ${key}; ${s.found.join(', ')} (about ${count(t.estimatedRows)} rows; sampled ${t.sampleMethod})`,
  ];
  return { ...tableProposal(t, key, why, fields, exclude, where ? [where] : []), customFields };
}

function proposePolicies(
  t: SampledTable,
  customerKey: { column: string; why: string },
  s: TableScore,
): NonNullable<Proposal['policies']> | undefined {
  if (t.primaryKey.length !== 1) return undefined;
  const key = t.primaryKey[0]!;
  const filters = [softDeleteFilter(t, { activeFlags: false }), lineOfBusinessFilter(t)].filter((f): f is Filter => f !== undefined);
  const exclude = new Set([key, customerKey.column, ...filters.map((f) => f.column)]);
  const fields = chooseFields(POLICY_TARGETS, t.columns, exclude);
  withPolicyIdentifier(fields);
  const why = [
    `${tableRef(t)} holds the policies: ${customerKey.why}; ${s.found.join(', ')} (about ${count(t.estimatedRows)} rows; sampled ${t.sampleMethod})`,
  ];
  return { ...tableProposal(t, key, why, fields, exclude, filters), customerKey: customerKey.column };
}

/**
 * CareCycle matches policies by healthSherpaPolicyId or carrierAssignedPolicyId; without either
 * every re-send would create a duplicate. When neither was found, the policy number (usually the
 * carrier's) is proposed as carrierAssignedPolicyId, and the comment says so.
 */
function withPolicyIdentifier(fields: FieldResult): void {
  const has = (f: string) => fields.chosen.some((c) => c.field === f);
  if (has('healthSherpaPolicyId') || has('carrierAssignedPolicyId')) return;
  const number = fields.chosen.find((c) => c.field === 'policyNumber');
  if (!number) return;
  fields.chosen.push({
    field: 'carrierAssignedPolicyId',
    column: number.column,
    spec: number.spec,
    why: [
      `${number.column}: no HealthSherpa or carrier policy id column, and CareCycle matches policies by one of them;`,
      "the policy number is usually the carrier's, so it is proposed here too (check it: a wrong id would create duplicates)",
    ],
  });
  fields.missing = fields.missing.filter((m) => m.field !== 'carrierAssignedPolicyId');
}

/** The proposal, or what was looked for. */
export function propose(tables: readonly SampledTable[]): Proposal | NoCustomerTable {
  const scores = tables.map(customerScore).sort((a, b) => b.score - a.score || b.table.estimatedRows - a.table.estimatedRows);
  const best = scores[0];
  if (!best || !isCustomerTable(best)) return { lookedFor: LOOKED_FOR, tables: scores.map(describeScore) };
  const customers = proposeCustomers(best);
  const linked = tables
    .filter((t) => t !== best.table)
    .map((t) => ({ t, ck: customerKeyOf(t, best.table) }))
    .filter((x): x is { t: SampledTable; ck: { column: string; why: string } } => x.ck !== undefined)
    .map((x) => ({ ...x, s: policyScore(x.t, x.ck.column) }))
    .sort((a, b) => b.s.score - a.s.score);
  const skipped = tables
    .filter((t) => t !== best.table && !linked.some((l) => l.t === t))
    .map((t) => `${tableRef(t)}: no column pointing at ${tableRef(best.table)}`);
  const top = linked[0];
  const policies = top && top.s.score >= 3 ? proposePolicies(top.t, top.ck, top.s) : undefined;
  const watch = linked
    .filter((l) => !policies || l.t !== top!.t)
    .map((l) => {
      const alsoPolicies =
        policies && l.s.score >= 3 ? `; it looks like policies too (${l.s.found.join(', ')}), but the config maps one policy table` : '';
      return { table: l.t, customerKey: l.ck.column, why: `${l.ck.why}: a change there re-sends the customer${alsoPolicies}` };
    });
  const out: Proposal = { customers, watch, skipped };
  if (policies) out.policies = policies;
  return out;
}

export const isProposal = (p: Proposal | NoCustomerTable): p is Proposal => 'customers' in p;
