import type { AcaCustomField, AcaPolicy } from '../carecycle/schema.js';
import type { CustomerPlan, PolicyPlan } from './mapping.js';
import type { AcaValue, TransformOptions } from './transforms.js';
import { mapValue, type FieldPlan } from './values.js';
import { hasIdentifier, withKey, type PolicyIdentifiers } from './records.js';

/**
 * Rows (all values as text, aliases v0…vN in field order) → ACA objects, collecting every
 * problem with the record's field path. Pure: the assembler does the I/O.
 */
export type Row = Record<string, string | null>;
export interface Issue {
  /** Path inside the customer's full record: `phoneNumber`, `policies[12].effectiveDate`. */
  path: string;
  reason: string;
}
/** Customer-level fields of a record (everything but policies). */
export type CustomerPart = Record<string, unknown> & { customFields?: AcaCustomField[] };

/** The customer fields remembered after a send, enough to address the customer again later. */
export const IDENTITY_FIELDS = [
  'externalId',
  'healthSherpaCustomerId',
  'carrierAssignedCustomerId',
  'firstName',
  'lastName',
  'phoneNumber',
  'postalCode',
  'timezone',
  'dateOfBirth',
] as const;

function withSource(reason: string, field: FieldPlan): string {
  return reason.includes(field.path) ? reason : `${reason} (${field.path})`;
}

/** Column aliases v0…vN of ./query.ts, made once. */
const ALIASES: string[] = Array.from({ length: 256 }, (_, i) => `v${i}`);
const alias = (i: number): string => ALIASES[i] ?? `v${i}`;

/** Per field list: the indexes in target-name order (see inNameOrder). */
const sortedOrder = new WeakMap<readonly FieldPlan[], number[]>();
function orderOf(fields: readonly FieldPlan[]): number[] {
  let order = sortedOrder.get(fields);
  if (!order) {
    order = fields
      .map((_, i) => i)
      .sort((a, b) => (fields[a]!.target < fields[b]!.target ? -1 : fields[a]!.target > fields[b]!.target ? 1 : 0));
    sortedOrder.set(fields, order);
  }
  return order;
}

/**
 * Fields whose refused value always dead-letters the customer, even with
 * sync.onInvalidOptional: omit: the required ones, the identifiers CareCycle matches by (leaving
 * one out could match another customer or policy), and the TCPA location.
 */
export const NEVER_OMITTED: ReadonlySet<string> = new Set([
  'firstName',
  'lastName',
  'phoneNumber',
  'externalId',
  'healthSherpaCustomerId',
  'carrierAssignedCustomerId',
  'postalCode',
  'timezone',
  'healthSherpaPolicyId',
  'carrierAssignedPolicyId',
]);

/**
 * How a refused value is handled: `omitted` null → an issue (the customer is dead-lettered);
 * otherwise an optional field's refusal is left out and listed there instead.
 */
export interface BuildOptions extends TransformOptions {
  omitted?: Issue[] | null;
}

/** The mapped values of one row, in config order (null: absent); issues in the same order. */
function mapValues(
  fields: readonly FieldPlan[],
  row: Row,
  offset: number,
  opts: BuildOptions,
  prefix: string,
  issues: Issue[],
  custom = false,
): Array<AcaValue | null> {
  const values = new Array<AcaValue | null>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const r = mapValue(f, row[alias(offset + i)] ?? null, opts);
    if (r.ok) values[i] = r.value;
    else {
      values[i] = null;
      const issue = { path: `${prefix}${f.target}`, reason: withSource(r.reason, f) };
      if (opts.omitted && (custom || !NEVER_OMITTED.has(f.target))) opts.omitted.push(issue);
      else issues.push(issue);
    }
  }
  return values;
}

/** ACA fields as an object with its keys in name order, so the canonical hash need not sort. */
function inNameOrder(fields: readonly FieldPlan[], values: ReadonlyArray<AcaValue | null>): Record<string, AcaValue> {
  const out: Record<string, AcaValue> = {};
  for (const i of orderOf(fields)) {
    const v = values[i];
    if (v !== null && v !== undefined) out[fields[i]!.target] = v;
  }
  return out;
}

/**
 * The customer part of the record. NULL (and blank) columns are left out here: this null-free
 * form is what the payload hash covers. The explicit nulls that clear a field CareCycle last got
 * a value for are added to the records sent (see ./clears.ts), so a field sent as null once and
 * absent afterwards hashes the same. `externalId` is the CRM key unless fields.externalId maps it.
 */
export function buildCustomer(plan: CustomerPlan, key: string, row: Row, opts: BuildOptions): { customer: CustomerPart; issues: Issue[] } {
  const issues: Issue[] = [];
  let customer: CustomerPart = inNameOrder(plan.fields, mapValues(plan.fields, row, 0, opts, '', issues));
  if (!plan.fields.some((f) => f.target === 'externalId')) {
    if (key.trim() === '')
      issues.push({ path: 'externalId', reason: `the customer key is blank; every record must carry externalId (customers.key)` });
    else customer = withKey(customer, 'externalId', key);
  } else if (customer.externalId === undefined && !issues.some((i) => i.path === 'externalId')) {
    issues.push({ path: 'externalId', reason: 'is empty; every record must carry externalId (customers.fields.externalId)' });
  }
  // Custom fields stay in config order: it is the order of the array sent (and hashed).
  const custom = mapValues(plan.customFields, row, plan.fields.length, opts, 'customFields.', issues, true);
  const customFields: AcaCustomField[] = [];
  custom.forEach((v, i) => {
    if (v !== null && v !== undefined) customFields.push({ fieldKey: plan.customFields[i]!.target, value: String(v) });
  });
  if (customFields.length > 0) customer = withKey(customer, 'customFields', customFields);
  return { customer, issues };
}

export interface BuiltPolicy {
  policyKey: string;
  policy: AcaPolicy;
  identifiers: PolicyIdentifiers;
}

/** One policy; `index` is its position in the customer's full policy list (for issue paths). */
export function buildPolicy(plan: PolicyPlan, row: Row, index: number, opts: BuildOptions): { built: BuiltPolicy; issues: Issue[] } {
  const issues: Issue[] = [];
  const prefix = `policies[${index}].`;
  const policy = inNameOrder(plan.fields, mapValues(plan.fields, row, 0, opts, prefix, issues)) as AcaPolicy;
  const identifiers: PolicyIdentifiers = {};
  if (typeof policy.healthSherpaPolicyId === 'string') identifiers.healthSherpaPolicyId = policy.healthSherpaPolicyId;
  if (typeof policy.carrierAssignedPolicyId === 'string') identifiers.carrierAssignedPolicyId = policy.carrierAssignedPolicyId;
  const policyKey = row.__key ?? '';
  if (!hasIdentifier(identifiers) && !issues.some((i) => /Policy(Id)?$/.test(i.path))) {
    issues.push({
      path: `policies[${index}]`,
      reason: `policy ${policyKey} has neither healthSherpaPolicyId nor carrierAssignedPolicyId; CareCycle could not match it on a re-send`,
    });
  }
  return { built: { policyKey, policy, identifiers }, issues };
}

/** The identifying subset of the customer part, stored in `sent.identity` after a send. */
export function identityOf(customer: CustomerPart): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of IDENTITY_FIELDS) if (customer[f] !== undefined) out[f] = customer[f];
  return out;
}
