import { hash } from 'node:crypto';
import { MAX_POLICIES_PER_RECORD } from '../carecycle/enums.js';

/**
 * Pure decisions of assembly: the canonical hash that makes an identical re-send free, the split
 * of a customer with more than 10 policies, and which remembered policies have disappeared.
 */

/**
 * JSON with object keys sorted at every level, so equal payloads hash equal whatever the key
 * order. Byte for byte what it always was (the hashes in `sent` depend on it); only faster: no
 * intermediate arrays, and a sort only for an object whose keys are out of order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
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
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return out + '}';
}

/** sha256 (hex) of the canonical JSON (one-shot `crypto.hash`: a tenth of createHash's cost). */
export function payloadHash(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}

/**
 * One record per ≤10 policies, each carrying the same customer fields and identifiers
 * (CareCycle accepts at most 10 policies per record, reference §2.6 #33). A customer with no
 * policies is one record without a `policies` array: whether an empty array deletes anything
 * is not documented (open question 8), so we never send one.
 */
export function splitPolicies<C extends object, P>(customer: C, policies: readonly P[], max = MAX_POLICIES_PER_RECORD): Array<C & { policies?: P[] }> {
  if (policies.length === 0) return [{ ...customer }];
  const out: Array<C & { policies: P[] }> = [];
  for (let i = 0; i < policies.length; i += max) out.push({ ...customer, policies: policies.slice(i, i + max) });
  return out;
}

/** A policy as last sent: its key, the identifiers CareCycle matches it by, and its status. */
export interface SentPolicy {
  policyKey: string;
  identifiers: PolicyIdentifiers;
  status: string | null;
}
export interface PolicyIdentifiers {
  healthSherpaPolicyId?: string;
  carrierAssignedPolicyId?: string;
}

export const hasIdentifier = (ids: PolicyIdentifiers): boolean =>
  Boolean(ids.healthSherpaPolicyId) || Boolean(ids.carrierAssignedPolicyId);

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
 * What to do with vanished policies (DESIGN §1 "Deletes"): each is sent once more with
 * `onPolicyDelete` as its status using the remembered identifiers, then forgotten. Nothing is
 * sent for a policy that moved to another customer (its new owner's record carries it), one
 * already last sent with that status, one without identifiers, or when the setting is `ignore`.
 */
export function decideVanished(vanished: readonly SentPolicy[], onPolicyDelete: string, movedKeys: ReadonlySet<string> = new Set()): VanishedDecision {
  const send: VanishedDecision['send'] = [];
  for (const p of vanished) {
    if (onPolicyDelete === 'ignore' || movedKeys.has(p.policyKey)) continue;
    if (p.status === onPolicyDelete || !hasIdentifier(p.identifiers)) continue;
    send.push({ ...p.identifiers, status: onPolicyDelete });
  }
  return { send, forget: vanished.map((p) => p.policyKey) };
}

/** `policies[3].status` in split record n → `policies[n*10+3].status` in the customer's full list. */
export function unsplitPath(path: string, recordIndex: number, max = MAX_POLICIES_PER_RECORD): string {
  return path.replace(/^policies\[(\d+)\]/, (_, i: string) => `policies[${recordIndex * max + Number(i)}]`);
}
