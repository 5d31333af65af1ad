import { canonicalJson } from '../assemble/index.js';

/**
 * Which fields of a customer's records differ between two assemblies of the same CRM rows
 * (the previous mapping and the current one), by field path: `firstName`,
 * `customFields.lead_source`, `policies[].status`. Pure; `backfill --dry-run` counts them.
 */
export interface FieldChange {
  path: string;
  /** undefined: the field is not sent. For policies: the first policy that differs. */
  before: unknown;
  after: unknown;
}

type Rec = Record<string, unknown> & {
  policies?: Array<Record<string, unknown>>;
  customFields?: Array<{ fieldKey: string; value: unknown }>;
};

/** A policy's identity across assemblies: the identifiers CareCycle matches it by. */
const policyId = (p: Record<string, unknown>, i: number): string =>
  p.healthSherpaPolicyId || p.carrierAssignedPolicyId
    ? `${String(p.healthSherpaPolicyId ?? '')}|${String(p.carrierAssignedPolicyId ?? '')}`
    : `#${i}`;

/** The customer's records as path → value, policies grouped by identity. */
function flatten(records: readonly Rec[]): { fields: Map<string, unknown>; policies: Map<string, Record<string, unknown>> } {
  const fields = new Map<string, unknown>();
  const policies = new Map<string, Record<string, unknown>>();
  let n = 0;
  for (const r of records) {
    for (const [k, v] of Object.entries(r)) {
      if (k === 'policies' || k === 'customFields') continue;
      fields.set(k, v);
    }
    for (const c of r.customFields ?? []) fields.set(`customFields.${c.fieldKey}`, c.value);
    for (const p of r.policies ?? []) policies.set(policyId(p, n++), p);
  }
  return { fields, policies };
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null) && (a === undefined) === (b === undefined);

/** Field paths that differ, in name order; a policy in only one of the two is `policies[]`. */
export function diffRecords(before: readonly object[], after: readonly object[]): FieldChange[] {
  const a = flatten(before as Rec[]);
  const b = flatten(after as Rec[]);
  const out = new Map<string, FieldChange>();
  for (const path of new Set([...a.fields.keys(), ...b.fields.keys()])) {
    if (!same(a.fields.get(path), b.fields.get(path))) out.set(path, { path, before: a.fields.get(path), after: b.fields.get(path) });
  }
  for (const id of new Set([...a.policies.keys(), ...b.policies.keys()])) {
    const pa = a.policies.get(id);
    const pb = b.policies.get(id);
    if (!pa || !pb) {
      if (!out.has('policies[]')) out.set('policies[]', { path: 'policies[]', before: pa, after: pb });
      continue;
    }
    for (const k of new Set([...Object.keys(pa), ...Object.keys(pb)])) {
      const path = `policies[].${k}`;
      if (!out.has(path) && !same(pa[k], pb[k])) out.set(path, { path, before: pa[k], after: pb[k] });
    }
  }
  return [...out.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** Pseudo-paths for a changed record whose difference is not (only) the mapping's. */
export const NEVER_SENT = '(never sent)';
export const CRM_CHANGED = '(changed in the CRM since the last send)';
export const NO_PREVIOUS = '(no previous mapping to compare with)';
