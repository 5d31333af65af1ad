import type { AcaCustomField, AcaPolicy } from '../carecycle/schema.js';
import type { CustomerPlan, PolicyPlan } from './mapping.js';
import type { AcaValue, TransformOptions } from './transforms.js';
import { mapValue, type FieldPlan } from './values.js';
import { hasIdentifier, type PolicyIdentifiers } from './records.js';

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
  'externalId', 'healthSherpaCustomerId', 'carrierAssignedCustomerId', 'firstName', 'lastName',
  'phoneNumber', 'postalCode', 'timezone', 'dateOfBirth',
] as const;

function withSource(reason: string, field: FieldPlan): string {
  return reason.includes(field.path) ? reason : `${reason} (${field.path})`;
}

function mapFields(fields: readonly FieldPlan[], row: Row, offset: number, opts: TransformOptions, prefix: string, issues: Issue[]): Map<string, AcaValue> {
  const out = new Map<string, AcaValue>();
  fields.forEach((f, i) => {
    const r = mapValue(f, row[`v${offset + i}`] ?? null, opts);
    if (!r.ok) issues.push({ path: `${prefix}${f.target}`, reason: withSource(r.reason, f) });
    else if (r.value !== null) out.set(f.target, r.value);
  });
  return out;
}

/**
 * The customer part of the record. NULL columns are left out rather than sent as null: whether
 * an explicit null erases a value in CareCycle is not documented (open question 8), and we do
 * not erase what we cannot restore. `externalId` is the CRM key unless fields.externalId maps it.
 */
export function buildCustomer(plan: CustomerPlan, key: string, row: Row, opts: TransformOptions): { customer: CustomerPart; issues: Issue[] } {
  const issues: Issue[] = [];
  const values = mapFields(plan.fields, row, 0, opts, '', issues);
  const customer: CustomerPart = Object.fromEntries(values);
  if (!plan.fields.some((f) => f.target === 'externalId')) customer.externalId = key;
  else if (customer.externalId === undefined && !issues.some((i) => i.path === 'externalId')) {
    issues.push({ path: 'externalId', reason: 'is empty; every record must carry externalId (customers.fields.externalId)' });
  }
  const custom = mapFields(plan.customFields, row, plan.fields.length, opts, 'customFields.', issues);
  if (custom.size > 0) customer.customFields = [...custom].map(([fieldKey, v]) => ({ fieldKey, value: String(v) }));
  return { customer, issues };
}

export interface BuiltPolicy {
  policyKey: string;
  policy: AcaPolicy;
  identifiers: PolicyIdentifiers;
}

/** One policy; `index` is its position in the customer's full policy list (for issue paths). */
export function buildPolicy(plan: PolicyPlan, row: Row, index: number, opts: TransformOptions): { built: BuiltPolicy; issues: Issue[] } {
  const issues: Issue[] = [];
  const prefix = `policies[${index}].`;
  const policy = Object.fromEntries(mapFields(plan.fields, row, 0, opts, prefix, issues)) as AcaPolicy;
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
