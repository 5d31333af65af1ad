import { validateRecord, type AcaRecord } from '../carecycle/schema.js';
import type { Config } from '../config/schema.js';
import type { MappingPlan } from './mapping.js';
import { buildCustomer, buildPolicy, identityOf, type Issue, type Row } from './build.js';
import { decideVanished, hasIdentifier, payloadHash, splitPolicies, unsplitPath, vanishedPolicies, type SentPolicy } from './records.js';
import type { SentState } from './sent-state.js';

/**
 * The verdict for one customer key, from its current rows and what was last sent. Pure.
 *
 * - `send`: `records` go out (≤10 policies each, never two in one request).
 * - `unchanged`: the payload hashes equal to the last send and no vanished policy needs a send.
 * - `invalid`: cannot be valid; `issues` name field paths. Goes to dead letters, costs no request.
 * - `deleted`: the row is gone or outside customers.where (sync.onCustomerDelete); with
 *   cancel-policies, `records` carry the remembered policies as Cancelled.
 *
 * `commit` is what the delivery loop stores after the records were accepted (or at once when
 * `records` is empty): upsert `sent` when `hash` is set, upsert `policies` into sent_policies,
 * delete `forgetPolicies` from it. It is null when nothing must change.
 */
export type Verdict = 'send' | 'unchanged' | 'invalid' | 'deleted';

export interface Commit {
  hash: string | null;
  identity: Record<string, unknown> | null;
  policies: SentPolicy[];
  forgetPolicies: string[];
}

export interface AssembleResult {
  key: string;
  verdict: Verdict;
  records: AcaRecord[];
  commit: Commit | null;
  /** invalid only: every problem; the first one is the headline. */
  issues: Issue[];
  /** invalid only: what was assembled, for dead_letters.payload. */
  payload?: unknown[];
  /** deleted only: which sync.onCustomerDelete applied. */
  deleteAction?: Config['sync']['onCustomerDelete'];
  /** Policy keys that disappeared since the last send (sent with the delete status unless ignored). */
  vanished: string[];
  /** This send restores policies CareCycle terminated by itself after the last one (see RESTORE_PREFIX). */
  restoring?: boolean;
}

/**
 * Prefix of a `sent.payload_hash` stored for a send after which CareCycle terminated policies
 * by itself (carecycle-api.md §2.4): never equal to a payload's hash, so the customer is sent
 * once more, which sets those policies back to their CRM status (that send creates nothing, so
 * it terminates nothing). The rest of the value is the payload's hash.
 */
export const RESTORE_PREFIX = 'restore:';

export interface DecideInput {
  key: string;
  /** Current customer row inside customers.where, or undefined. */
  row: Row | undefined;
  policyRows: readonly Row[];
  sent: SentState | undefined;
  /** Vanished policy keys that still exist under another customer. */
  moved: ReadonlySet<string>;
}

export interface DecideSettings {
  plan: MappingPlan;
  onCustomerDelete: Config['sync']['onCustomerDelete'];
  onPolicyDelete: string;
}

const CANCELLED = 'Cancelled';

/** Validates the records to send; issue paths are mapped back to the customer's full policy list. */
function validate(records: readonly object[]): { valid: AcaRecord[]; issues: Issue[] } {
  const valid: AcaRecord[] = [];
  const issues: Issue[] = [];
  records.forEach((r, n) => {
    const v = validateRecord(r);
    if (v.ok) valid.push(v.record);
    else for (const i of v.issues) issues.push({ path: unsplitPath(i.path, n), reason: i.message });
  });
  return { valid, issues };
}

const invalid = (key: string, issues: Issue[], payload: unknown[], vanished: string[] = []): AssembleResult =>
  ({ key, verdict: 'invalid', records: [], commit: null, issues, payload, vanished });

function decideDeleted(input: DecideInput, s: DecideSettings): AssembleResult {
  const base = { key: input.key, verdict: 'deleted' as const, issues: [], deleteAction: s.onCustomerDelete };
  const remembered = input.sent?.policies ?? [];
  const vanished = remembered.map((p) => p.policyKey);
  if (s.onCustomerDelete === 'ignore') return { ...base, records: [], commit: null, vanished: [] };
  const toCancel = remembered.filter((p) => p.status !== CANCELLED && hasIdentifier(p.identifiers) && !input.moved.has(p.policyKey));
  const identity = input.sent?.identity ?? null;
  if (!identity || toCancel.length === 0) {
    const commit = vanished.length ? { hash: null, identity: null, policies: [], forgetPolicies: vanished } : null;
    return { ...base, records: [], commit, vanished };
  }
  const out = splitPolicies(identity, toCancel.map((p) => ({ ...p.identifiers, status: CANCELLED })));
  const { valid, issues } = validate(out);
  if (issues.length) return { ...invalid(input.key, issues, out, vanished), deleteAction: s.onCustomerDelete };
  return { ...base, records: valid, vanished, commit: { hash: payloadHash(valid), identity, policies: [], forgetPolicies: vanished } };
}

function decidePresent(input: DecideInput, row: Row, s: DecideSettings): AssembleResult {
  const opts = { dateFormat: s.plan.dateFormat };
  const { customer, issues } = buildCustomer(s.plan.customers, input.key, row, opts);
  const policies = s.plan.policies ? input.policyRows.map((r, i) => buildPolicy(s.plan.policies!, r, i, opts)) : [];
  for (const p of policies) issues.push(...p.issues);
  const remembered = input.sent?.policies ?? [];
  const vanished = remembered.length ? vanishedPolicies(remembered, new Set(policies.map((p) => p.built.policyKey))) : [];
  const decision = decideVanished(vanished, s.onPolicyDelete, input.moved);
  const steady = policies.map((p) => p.built.policy);
  const out = splitPolicies(customer, decision.send.length ? [...steady, ...decision.send] : steady);
  const vanishedKeys = vanished.map((p) => p.policyKey);
  if (issues.length) return invalid(input.key, issues, out, vanishedKeys);
  const checked = validate(out);
  if (checked.issues.length) return invalid(input.key, checked.issues, out, vanishedKeys);
  // The hash covers the steady payload only (not the one-off cancellations), so the send after
  // a vanished policy was forgotten is recognised as unchanged.
  const hash = payloadHash(decision.send.length ? splitPolicies(customer, steady) : out);
  const sentPolicies: SentPolicy[] = policies.map((p) => ({
    policyKey: p.built.policyKey,
    identifiers: p.built.identifiers,
    status: typeof p.built.policy.status === 'string' ? p.built.policy.status : null,
  }));
  const commit: Commit = { hash, identity: identityOf(customer), policies: sentPolicies, forgetPolicies: decision.forget };
  const unchanged = decision.send.length === 0 && input.sent?.hash === hash;
  const result: AssembleResult = { key: input.key, verdict: unchanged ? 'unchanged' : 'send', records: unchanged ? [] : checked.valid, commit, issues: [], vanished: vanishedKeys };
  if (input.sent?.hash?.startsWith(RESTORE_PREFIX)) result.restoring = true;
  return result;
}

export function decide(input: DecideInput, settings: DecideSettings): AssembleResult {
  return input.row ? decidePresent(input, input.row, settings) : decideDeleted(input, settings);
}
