/**
 * The end-to-end oracle: what the CareCycle stand-in stores, compared with what the sample CRM
 * says under config/demo.yaml's mapping, for every customer. The expectation is derived here
 * from plain SQL and a few lines of formatting, not through the assembler, so a mapping bug
 * in src/assemble cannot hide behind itself.
 */
import { expect } from 'vitest';
import type { StandIn, StoredCustomer } from '../../src/carecycle/stand-in/index.js';
import { sql } from '../harness/db.js';
import { waitFor } from '../source/helpers.js';

interface CrmCustomer {
  key: string;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  email: string | null;
  zip: string | null;
  dob: string | null;
  sex: string | null;
  dnc: boolean;
  lead_source: string | null;
}

interface CrmPolicy {
  key: string;
  customer_key: string;
  hs: string | null;
  carrier: string | null;
  status: string;
  eff: string | null;
  premium: string | null;
}

const GENDER: Record<string, string> = { M: 'Male', F: 'Female' };
const STATUS: Record<string, string> = { active: 'Active', cancelled: 'Cancelled' };

function phone(v: string | null): string | null {
  if (v === null) return null;
  const d = v.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
  return `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`;
}

/** Blank text counts as NULL: the daemon sends neither, and clears what it sent before. */
const text = (v: string | null): string | null => (v === null || v.trim() === '' ? null : v);

/** config/demo.yaml's mapping of one CRM customer, as CareCycle should store it. */
function expectedCustomer(c: CrmCustomer): Record<string, unknown> {
  const leadSource = text(c.lead_source);
  return {
    externalId: c.key,
    firstName: c.first_name,
    lastName: c.last_name,
    phoneNumber: phone(c.phone),
    email: text(c.email),
    postalCode: c.zip,
    dateOfBirth: c.dob,
    gender: c.sex === null ? null : GENDER[c.sex],
    doNotCall: c.dnc,
    customFields: leadSource === null ? [] : [{ fieldKey: 'lead_source', value: leadSource }],
  };
}

/** A stored custom field without a value is one CareCycle does not have. */
const storedCustomFields = (v: unknown) => ((v as Array<{ value: unknown }> | undefined) ?? []).filter((cf) => cf.value !== null);

function expectedPolicy(p: CrmPolicy): Record<string, unknown> {
  return {
    healthSherpaPolicyId: p.hs,
    carrierAssignedPolicyId: p.carrier,
    status: STATUS[p.status] ?? p.status,
    effectiveDate: p.eff,
    monthlyPremium: p.premium,
  };
}

const pick = (fields: Record<string, unknown>, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, fields[k] ?? null]));

/** Differences between one stored customer and the CRM (empty when they agree). */
function customerDiffs(
  c: CrmCustomer,
  stored: StoredCustomer | undefined,
  policies: readonly CrmPolicy[],
  policyOwner: ReadonlyMap<string, string>,
): string[] {
  if (!stored) return [`customer ${c.key}: not in the stand-in`];
  const out: string[] = [];
  const want = expectedCustomer(c);
  const got = { ...pick(stored.fields, Object.keys(want)), customFields: storedCustomFields(stored.fields.customFields) };
  if (JSON.stringify(got) !== JSON.stringify(want))
    out.push(`customer ${c.key}: stored ${JSON.stringify(got)}, CRM says ${JSON.stringify(want)}`);
  const mine = new Set<string>();
  for (const p of policies) {
    mine.add(p.hs!);
    const copies = stored.policies.filter((s) => s.fields.healthSherpaPolicyId === p.hs);
    if (copies.length !== 1) {
      out.push(`customer ${c.key}: policy ${p.hs} stored ${copies.length} times`);
      continue;
    }
    const w = expectedPolicy(p);
    const g = pick(copies[0]!.fields, Object.keys(w));
    if (JSON.stringify(g) !== JSON.stringify(w))
      out.push(`customer ${c.key}: policy ${p.hs} stored ${JSON.stringify(g)}, CRM says ${JSON.stringify(w)}`);
  }
  for (const s of stored.policies) {
    const hs = String(s.fields.healthSherpaPolicyId);
    if (mine.has(hs)) continue;
    // A policy gone from this customer: deleted (or left policies.where) → sent once as
    // Cancelled (sync.onPolicyDelete); moved to another customer → left alone, by design.
    const movedTo = policyOwner.get(hs);
    if (s.fields.status !== 'Cancelled' && movedTo === undefined)
      out.push(`customer ${c.key}: policy ${hs} is gone from the CRM but stored as ${String(s.fields.status)}, not Cancelled`);
  }
  return out;
}

export interface MatchOptions {
  /** Keys expected in dead_letters (key → field path); they are not compared. */
  deadLettered?: ReadonlyMap<string, string>;
  /** Deleted customers are not in the CRM to compare with; their stand-in state is checked by the caller. */
  stateSchema?: string;
}

/** Every difference between the stand-in and the CRM, the dead letters and the queue. */
export async function standInDiffs(standIn: StandIn, url: string, opts: MatchOptions = {}): Promise<string[]> {
  const schema = opts.stateSchema ?? 'carecycle_sync';
  const customers = await sql<CrmCustomer>(
    url,
    `
    SELECT id::text AS key, first_name, last_name, phone, email, zip, to_char(birth_date, 'MM-DD-YYYY') AS dob,
           sex, dnc_flag = 'Y' AS dnc, lead_source
      FROM customers WHERE deleted_at IS NULL ORDER BY id`,
  );
  const policies = await sql<CrmPolicy>(
    url,
    `
    SELECT id::text AS key, customer_id::text AS customer_key, hs_policy_id AS hs, carrier_policy_id AS carrier, status,
           to_char(effective_date, 'MM-DD-YYYY') AS eff, premium::text AS premium
      FROM policies WHERE line_of_business = 'ACA' ORDER BY id`,
  );
  const dead = await sql<{ customer_key: string; field_path: string | null }>(
    url,
    `SELECT customer_key, field_path FROM "${schema}".dead_letters ORDER BY customer_key`,
  );
  const pending = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM "${schema}".pending`);
  const out: string[] = [];
  if (pending[0]!.n > 0) out.push(`${pending[0]!.n} keys still pending`);
  const wantDead = [...(opts.deadLettered ?? new Map())].sort(([a], [b]) => a.localeCompare(b));
  const gotDead = dead.map((d) => [d.customer_key, d.field_path] as const);
  if (JSON.stringify(gotDead) !== JSON.stringify(wantDead))
    out.push(`dead letters ${JSON.stringify(gotDead)}, expected ${JSON.stringify(wantDead)}`);
  const byCustomer = new Map<string, CrmPolicy[]>();
  const owner = new Map<string, string>();
  for (const p of policies) {
    byCustomer.set(p.customer_key, [...(byCustomer.get(p.customer_key) ?? []), p]);
    if (p.hs) owner.set(p.hs, p.customer_key);
  }
  for (const c of customers) {
    if (opts.deadLettered?.has(c.key)) continue;
    out.push(...customerDiffs(c, standIn.store.byExternalId(c.key), byCustomer.get(c.key) ?? [], owner));
  }
  const ext = standIn.store.all().map((s) => String(s.fields.externalId));
  if (new Set(ext).size !== ext.length) out.push('the stand-in holds two customers with the same externalId');
  return out;
}

/**
 * Waits until the stand-in agrees with the CRM for every customer (and nothing is pending),
 * then asserts it, so a failure shows every difference at once.
 */
export async function expectStandInMatchesCrm(
  standIn: StandIn,
  url: string,
  opts: MatchOptions & { timeoutMs?: number } = {},
): Promise<void> {
  let diffs: string[] = ['not compared yet'];
  const check = async () => {
    // Before setup the state tables do not exist yet: that is a difference too, not a pass.
    diffs = await standInDiffs(standIn, url, opts).catch((err: Error) => [`comparison failed: ${err.message}`]);
    return diffs.length === 0;
  };
  await waitFor('the stand-in to match the CRM', check, opts.timeoutMs ?? 20_000, 100).catch(() => undefined);
  expect(diffs).toEqual([]);
}
