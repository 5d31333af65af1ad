import { hash } from 'node:crypto';
import { MAX_POLICIES_PER_RECORD } from '../carecycle/enums.js';

/**
 * Pure decisions of assembly: the canonical hash that makes an identical re-send free, the split
 * of a customer with more than 10 policies, and which remembered policies have disappeared.
 */

/**
 * JSON with object keys sorted at every level, so equal payloads hash equal whatever the key
 * order. Byte for byte what it always was for JSON data (the hashes in `sent` depend on it);
 * only faster: a part whose keys are already in order (the assembler builds them so) goes
 * through the native JSON.stringify, and the rest is written without intermediate arrays.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (inCanonicalOrder(value)) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += v === undefined ? 'null' : canonicalJson(v);
    }
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return out + '}';
}

/**
 * True when JSON.stringify(value) is already canonical: plain arrays and objects only, every
 * object's keys in sorted order (as JSON.stringify will write them), nothing but JSON values.
 */
function inCanonicalOrder(value: unknown): boolean {
  if (value === null) return true;
  const t = typeof value;
  if (t === 'string' || t === 'boolean' || t === 'number' || t === 'undefined') return true;
  if (t !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !inCanonicalOrder(value[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const obj = value as Record<string, unknown>;
  let prev: string | undefined;
  for (const k of Object.keys(obj)) {
    if (prev !== undefined && prev > k) return false;
    prev = k;
    if (!inCanonicalOrder(obj[k])) return false;
  }
  return true;
}

/** sha256 (hex) of the canonical JSON (one-shot `crypto.hash`: a tenth of createHash's cost). */
export function payloadHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/**
 * One record per ≤10 policies, each carrying the same customer fields and identifiers
 * (CareCycle accepts at most 10 policies per record, docs/carecycle-api.md, "Request"). A customer with no
 * policies is one record without a `policies` array: whether an empty array deletes anything
 * is not documented (docs/carecycle-api.md, A8), so we never send one.
 */
export function splitPolicies<C extends object, P>(
  customer: C,
  policies: readonly P[],
  max = MAX_POLICIES_PER_RECORD,
): Array<C & { policies?: P[] }> {
  if (policies.length === 0) return [{ ...customer }];
  const out: Array<C & { policies: P[] }> = [];
  for (let i = 0; i < policies.length; i += max) out.push(withKey(customer, 'policies', policies.slice(i, i + max)));
  return out;
}

/**
 * A copy of `obj` with `key` set, placed before the first key that sorts after it: an object
 * built in name order stays in name order (what canonicalJson is quickest on).
 */
export function withKey<T extends object, K extends string, V>(obj: T, key: K, value: V): T & Record<K, V> {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const k of Object.keys(obj)) {
    if (k === key) continue;
    if (!placed && key < k) {
      out[key] = value;
      placed = true;
    }
    out[k] = (obj as Record<string, unknown>)[k];
  }
  if (!placed) out[key] = value;
  return out as T & Record<K, V>;
}

/** A policy as last sent: its key, the identifiers CareCycle matches it by, and its status. */
export interface SentPolicy {
  policyKey: string;
  identifiers: PolicyIdentifiers;
  status: string | null;
  /** Its fields last sent with a value (see ./clears.ts); null: not known; absent: not read. */
  valued?: readonly string[] | null;
}
export interface PolicyIdentifiers {
  healthSherpaPolicyId?: string;
  carrierAssignedPolicyId?: string;
}

export const hasIdentifier = (ids: PolicyIdentifiers): boolean => Boolean(ids.healthSherpaPolicyId) || Boolean(ids.carrierAssignedPolicyId);

/** Remembered policies of a customer that are no longer among its current policy keys. */
export function vanishedPolicies(sent: readonly SentPolicy[], currentKeys: ReadonlySet<string>): SentPolicy[] {
  return sent.filter((p) => !currentKeys.has(p.policyKey));
}

export interface VanishedDecision {
  /** Policies to send once more with the delete status (identifiers only, plus status). */
  send: Array<PolicyIdentifiers & { status: string }>;
  /** Policy keys to drop from sent_policies once the send (if any) succeeded. */
  forget: string[];
}

/**
 * True when CareCycle would match the two policies to one: they share a healthSherpaPolicyId or
 * a carrierAssignedPolicyId.
 */
export const sameCareCyclePolicy = (a: PolicyIdentifiers, b: PolicyIdentifiers): boolean =>
  (Boolean(a.healthSherpaPolicyId) && a.healthSherpaPolicyId === b.healthSherpaPolicyId) ||
  (Boolean(a.carrierAssignedPolicyId) && a.carrierAssignedPolicyId === b.carrierAssignedPolicyId);

/**
 * What to do with vanished policies (docs/architecture.md, "Deletes"): each is sent once more with
 * `onPolicyDelete` as its status using the remembered identifiers, then forgotten. Nothing is
 * sent for a policy that moved to another customer (its new owner's record carries it), one
 * already last sent with that status, one without identifiers, or when the setting is `ignore`,
 * nor for one whose identifiers a current policy carries: a CRM that saves an edit as delete +
 * insert gives the policy a new key, and CareCycle matches the new row to the same policy, which
 * must keep the new row's status.
 */
export function decideVanished(
  vanished: readonly SentPolicy[],
  onPolicyDelete: string,
  movedKeys: ReadonlySet<string> = new Set(),
  current: readonly PolicyIdentifiers[] = [],
): VanishedDecision {
  const send: VanishedDecision['send'] = [];
  for (const p of vanished) {
    if (onPolicyDelete === 'ignore' || movedKeys.has(p.policyKey)) continue;
    if (p.status === onPolicyDelete || !hasIdentifier(p.identifiers)) continue;
    if (current.some((c) => sameCareCyclePolicy(c, p.identifiers))) continue;
    send.push({ ...p.identifiers, status: onPolicyDelete });
  }
  return { send, forget: vanished.map((p) => p.policyKey) };
}

/** `policies[3].status` in split record n → `policies[n*10+3].status` in the customer's full list. */
export function unsplitPath(path: string, recordIndex: number, max = MAX_POLICIES_PER_RECORD): string {
  return path.replace(/^policies\[(\d+)\]/, (_, i: string) => `policies[${recordIndex * max + Number(i)}]`);
}
