/**
 * What the stand-in accepted, with CareCycle's matching rules (docs/carecycle-api.md, "Matching"
 * and "Automatic termination"): customer = healthSherpaCustomerId → externalId →
 * carrierAssignedCustomerId → name+DOB+phone, the first identifier *present* decides, and if it
 * matches nothing a new customer is created (A7: we do not fall through). Policy =
 * healthSherpaPolicyId → carrierAssignedPolicyId within the customer; a policy with neither is new
 * on every send (A6). Omitted fields keep their stored value, explicit nulls clear it
 * (undocumented; our reading): a cleared field is removed, and so is a custom field sent with a
 * null value. `nullValues: 'ignore'` plays the other reading, an API that ignores nulls like
 * omitted fields.
 */
import { randomUUID } from 'node:crypto';
import type { AcaPolicy, AcaRecord } from '../schema.js';

export interface StoredPolicy {
  id: string;
  fields: Record<string, unknown>;
}

export interface StoredCustomer {
  id: string;
  fields: Record<string, unknown>;
  policies: StoredPolicy[];
  createdAt: number;
  updatedAt: number;
}

export interface ChangedPolicy extends Record<string, unknown> {
  id: string;
  previousStatus: string | null;
}

export interface ApplyResult {
  customer: StoredCustomer;
  created: boolean;
  changedPolicies: ChangedPolicy[];
}

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/** The key a customer is matched on, or the fallback name+DOB+phone key. */
export function customerMatchKey(r: Partial<AcaRecord>): { index: 'hs' | 'ext' | 'carrier' | 'name'; value: string } {
  if (r.healthSherpaCustomerId) return { index: 'hs', value: r.healthSherpaCustomerId };
  if (r.externalId) return { index: 'ext', value: r.externalId };
  if (r.carrierAssignedCustomerId) return { index: 'carrier', value: r.carrierAssignedCustomerId };
  return { index: 'name', value: nameKey(r) };
}

/** The name+DOB+phone match key (the last resort of "Matching"). */
function nameKey(r: Partial<AcaRecord>): string {
  const phone = String(r.phoneNumber ?? '')
    .replace(/\D/g, '')
    .slice(-10);
  const dob = String(r.dateOfBirth ?? '').replace(/\//g, '-');
  return [r.firstName, r.lastName, dob, phone].join('|');
}

/** Parses MM-DD-YYYY, MM/DD/YYYY or YYYY-MM-DD to epoch ms (UTC), or undefined. */
export function parseUsDate(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{2})[-/](\d{2})[-/](\d{4})$/.exec(v);
  if (m) return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  return iso ? Date.UTC(Number(iso[1]), Number(iso[2]) - 1, Number(iso[3])) : undefined;
}

/** What an explicit null does: clears the stored value (default), or nothing. */
export type NullHandling = 'clear' | 'ignore';

export class StandInStore {
  readonly customers = new Map<string, StoredCustomer>();
  constructor(public nullValues: NullHandling = 'clear') {}
  private readonly indices = {
    hs: new Map<string, string>(),
    ext: new Map<string, string>(),
    carrier: new Map<string, string>(),
    name: new Map<string, string>(),
  };

  /** The customer stored under this externalId, with its policies. */
  byExternalId(externalId: string): StoredCustomer | undefined {
    const id = this.indices.ext.get(externalId);
    return id === undefined ? undefined : this.customers.get(id);
  }

  all(): StoredCustomer[] {
    return [...this.customers.values()];
  }

  policyCount(): number {
    let n = 0;
    for (const c of this.customers.values()) n += c.policies.length;
    return n;
  }

  apply(record: AcaRecord, now: number): ApplyResult {
    const { policies = [], customFields, ...fields } = record;
    const key = customerMatchKey(record);
    const existingId = this.indices[key.index].get(key.value);
    let customer = existingId === undefined ? undefined : this.customers.get(existingId);
    const created = customer === undefined;
    if (!customer) {
      customer = { id: randomUUID(), fields: {}, policies: [], createdAt: now, updatedAt: now };
      this.customers.set(customer.id, customer);
    }
    this.unindex(customer);
    mergeFields(customer.fields, fields, this.nullValues);
    if (customFields) customer.fields.customFields = mergeCustomFields(customer.fields.customFields, customFields, this.nullValues);
    customer.updatedAt = now;
    this.index(customer);
    const changedPolicies = applyPolicies(customer, policies ?? [], now, this.nullValues);
    return { customer, created, changedPolicies };
  }

  private index(c: StoredCustomer): void {
    for (const [index, value] of this.identifiers(c)) this.indices[index].set(value, c.id);
  }

  private unindex(c: StoredCustomer): void {
    for (const [index, value] of this.identifiers(c)) {
      if (this.indices[index].get(value) === c.id) this.indices[index].delete(value);
    }
  }

  private identifiers(c: StoredCustomer): Array<['hs' | 'ext' | 'carrier' | 'name', string]> {
    const f = c.fields as Partial<AcaRecord>;
    const out: Array<['hs' | 'ext' | 'carrier' | 'name', string]> = [];
    if (f.healthSherpaCustomerId) out.push(['hs', f.healthSherpaCustomerId]);
    if (f.externalId) out.push(['ext', f.externalId]);
    if (f.carrierAssignedCustomerId) out.push(['carrier', f.carrierAssignedCustomerId]);
    if (f.firstName !== undefined) {
      out.push(['name', nameKey(f)]);
    }
    return out;
  }
}

function mergeFields(target: Record<string, unknown>, source: Record<string, unknown>, nulls: NullHandling): void {
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    if (v !== null) target[k] = v;
    else if (nulls === 'clear') delete target[k];
  }
}

function mergeCustomFields(
  stored: unknown,
  incoming: NonNullable<AcaRecord['customFields']>,
  nulls: NullHandling,
): Array<{ fieldKey: string; value: string | null }> {
  const byKey = new Map<string, string | null>();
  for (const cf of (stored as Array<{ fieldKey: string; value: string | null }> | undefined) ?? []) byKey.set(cf.fieldKey, cf.value);
  for (const cf of incoming) {
    if (cf.value !== null) byKey.set(cf.fieldKey, cf.value);
    else if (nulls === 'clear') byKey.delete(cf.fieldKey);
  }
  return [...byKey].map(([fieldKey, value]) => ({ fieldKey, value }));
}

function findPolicy(c: StoredCustomer, p: AcaPolicy): StoredPolicy | undefined {
  if (p.healthSherpaPolicyId) return c.policies.find((s) => s.fields.healthSherpaPolicyId === p.healthSherpaPolicyId);
  if (p.carrierAssignedPolicyId) return c.policies.find((s) => s.fields.carrierAssignedPolicyId === p.carrierAssignedPolicyId);
  return undefined;
}

/** Creates or updates the record's policies; a creation auto-terminates year-old ones ("Automatic termination"). */
function applyPolicies(c: StoredCustomer, policies: readonly AcaPolicy[], now: number, nulls: NullHandling): ChangedPolicy[] {
  const changed: ChangedPolicy[] = [];
  const touched = new Set<string>();
  let createdAny = false;
  for (const p of policies) {
    let stored = findPolicy(c, p);
    const previousStatus = stored ? String(stored.fields.status ?? 'Active') : null;
    if (!stored) {
      stored = { id: randomUUID(), fields: { status: 'Active' } };
      c.policies.push(stored);
      createdAny = true;
    }
    mergeFields(stored.fields, p, nulls);
    if (stored.fields.status == null) stored.fields.status = 'Active';
    touched.add(stored.id);
    changed.push({ ...stored.fields, id: stored.id, policyType: 'ACA', previousStatus });
  }
  if (createdAny) changed.push(...autoTerminate(c, touched, now));
  return changed;
}

/** "One year old" is measured from today (A17 is open); terminationDate is left alone. */
function autoTerminate(c: StoredCustomer, touched: Set<string>, now: number): ChangedPolicy[] {
  const out: ChangedPolicy[] = [];
  for (const s of c.policies) {
    if (touched.has(s.id) || s.fields.status === 'Terminated') continue;
    const eff = parseUsDate(s.fields.effectiveDate);
    if (eff === undefined || now - eff <= ONE_YEAR_MS) continue;
    const previousStatus = String(s.fields.status ?? 'Active');
    s.fields.status = 'Terminated';
    out.push({ ...s.fields, id: s.id, policyType: 'ACA', previousStatus });
  }
  return out;
}
