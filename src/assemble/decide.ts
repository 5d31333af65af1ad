import { validateRecord, type AcaRecord } from '../carecycle/schema.js';
import type { Config } from '../config/schema.js';
import type { MappingPlan } from './mapping.js';
import {
  buildCustomer,
  buildPolicy,
  identityOf,
  type BuildOptions,
  type BuiltPolicy,
  type CustomerPart,
  type Issue,
  type Row,
} from './build.js';
import { CUSTOM_PREFIX, fieldsToClear, rememberValued, valuedOfCustomer, valuedOfPolicy, withNulls, type Valued } from './clears.js';
import {
  decideVanished,
  hasIdentifier,
  payloadHash,
  sameCareCyclePolicy,
  splitPolicies,
  unsplitPath,
  vanishedPolicies,
  type SentPolicy,
} from './records.js';
import type { SentState } from './sent-state.js';
import { isRestoring, matchesLastSend } from '../queue/restore.js';

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
  /** Customer fields last sent with a value (see ./clears.ts); null: not known. */
  valued?: readonly string[] | null;
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
  /** This send restores policies CareCycle terminated by itself after the last one (src/queue/restore.ts). */
  restoring?: boolean;
  /** sync.onInvalidOptional: omit: optional fields left out because their value was refused. */
  omitted?: Issue[];
  /**
   * Policies of `commit` that must be remembered before the request goes out, in case its
   * outcome stays unknown (deliver/in-doubt.ts): those new, or changed in status, identifiers or
   * fields with a value since their last confirmed send. Absent: all of them.
   */
  inDoubtPolicies?: SentPolicy[];
}

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
  /** Default `clear`. */
  nullValues?: Config['sync']['nullValues'];
  /** Default `dead-letter`. */
  onInvalidOptional?: Config['sync']['onInvalidOptional'];
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

const invalid = (key: string, issues: Issue[], payload: unknown[], vanished: string[] = []): AssembleResult => ({
  key,
  verdict: 'invalid',
  records: [],
  commit: null,
  issues,
  payload,
  vanished,
});

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
  const out = splitPolicies(
    identity,
    toCancel.map((p) => ({ ...p.identifiers, status: CANCELLED })),
  );
  const { valid, issues } = validate(out);
  if (issues.length) return { ...invalid(input.key, issues, out, vanished), deleteAction: s.onCustomerDelete };
  const commit = { hash: payloadHash(valid), identity, valued: input.sent?.valued ?? null, policies: [], forgetPolicies: vanished };
  return { ...base, records: valid, vanished, commit };
}

interface Built {
  customer: CustomerPart;
  policies: Array<{ built: BuiltPolicy; issues: Issue[] }>;
  issues: Issue[];
  omitted: Issue[] | null;
}

function build(input: DecideInput, row: Row, s: DecideSettings): Built {
  const omitted = s.onInvalidOptional === 'omit' ? [] : null;
  const { plan } = s;
  const copts: BuildOptions = { dateFormat: plan.dateFormat, timeZone: plan.timeZone, omitted };
  const popts: BuildOptions = { dateFormat: plan.policyDateFormat ?? plan.dateFormat, timeZone: plan.timeZone, omitted };
  const { customer, issues } = buildCustomer(plan.customers, input.key, row, copts);
  const policies = plan.policies ? input.policyRows.map((r, i) => buildPolicy(plan.policies!, r, i, popts)) : [];
  for (const p of policies) issues.push(...p.issues);
  return { customer, policies, issues, omitted };
}

/** Omitted targets of the customer part, or of policy `index`. */
function omittedOf(omitted: Issue[] | null, index?: number): string[] {
  if (!omitted || omitted.length === 0) return [];
  const prefix = index === undefined ? undefined : `policies[${index}].`;
  return omitted
    .filter((o) => (prefix === undefined ? !o.path.startsWith('policies[') : o.path.startsWith(prefix)))
    .map((o) => (prefix === undefined ? o.path : o.path.slice(prefix.length)));
}

/** The remembered send of each current policy: by key, or by CareCycle identifiers (delete + re-insert). */
function previousPolicies(b: Built, remembered: readonly SentPolicy[]): Array<SentPolicy | undefined> {
  if (remembered.length === 0) return b.policies.map(() => undefined);
  const byKey = new Map(remembered.map((p) => [p.policyKey, p]));
  return b.policies.map(
    (p) =>
      byKey.get(p.built.policyKey) ??
      remembered.find((r) => !byKey.has(p.built.policyKey) && sameCareCyclePolicy(r.identifiers, p.built.identifiers)),
  );
}

/** True when a lost request carrying `p` could leave CareCycle other than its remembered `prev`. */
function changedSince(p: SentPolicy, prev: SentPolicy | undefined): boolean {
  if (!prev || prev.policyKey !== p.policyKey || prev.status !== p.status) return true;
  if (prev.identifiers.healthSherpaPolicyId !== p.identifiers.healthSherpaPolicyId) return true;
  if (prev.identifiers.carrierAssignedPolicyId !== p.identifiers.carrierAssignedPolicyId) return true;
  if (prev.valued === null || prev.valued === undefined) return false;
  return (p.valued ?? []).some((f) => !prev.valued!.includes(f));
}

/** Per plan: the mapped customer fields (custom ones as customFields.<key>) and policy fields. */
const mappedOf = new WeakMap<MappingPlan, { customer: string[]; policy: string[] }>();
function mapped(plan: MappingPlan) {
  let m = mappedOf.get(plan);
  if (!m) {
    m = {
      customer: [...plan.customers.fields.map((f) => f.target), ...plan.customers.customFields.map((f) => CUSTOM_PREFIX + f.target)],
      policy: plan.policies?.fields.map((f) => f.target) ?? [],
    };
    mappedOf.set(plan, m);
  }
  return m;
}

interface Present {
  customer: string[];
  policies: string[][];
}

/** The records to send with explicit nulls for what CareCycle last got a value for (sync.nullValues: clear). */
function recordsWithClears(
  b: Built,
  s: DecideSettings,
  present: Present,
  prevCustomer: Valued,
  prev: ReadonlyArray<SentPolicy | undefined>,
  extra: readonly object[],
): AcaRecord[] | undefined {
  // Never sent: nothing of it can be stale (a first send, most of a backfill).
  if (prevCustomer === undefined && prev.every((p) => p === undefined)) return undefined;
  const m = mapped(s.plan);
  const customerClears = fieldsToClear(m.customer, present.customer, prevCustomer, omittedOf(b.omitted));
  let any = customerClears.length > 0;
  const policyClears = b.policies.map((_, i) => {
    const c = fieldsToClear(m.policy, present.policies[i]!, prev[i]?.valued, omittedOf(b.omitted, i));
    if (c.length > 0) any = true;
    return c;
  });
  if (!any) return undefined;
  const steady = b.policies.map((p, i) => withNulls(p.built.policy, policyClears[i]!));
  return splitPolicies(withNulls(b.customer, customerClears), [...steady, ...extra]) as AcaRecord[];
}

function decidePresent(input: DecideInput, row: Row, s: DecideSettings): AssembleResult {
  const b = build(input, row, s);
  const { customer, policies, issues } = b;
  const remembered = input.sent?.policies ?? [];
  const vanished = remembered.length ? vanishedPolicies(remembered, new Set(policies.map((p) => p.built.policyKey))) : [];
  const decision = decideVanished(
    vanished,
    s.onPolicyDelete,
    input.moved,
    policies.map((p) => p.built.identifiers),
  );
  const steady = policies.map((p) => p.built.policy);
  const out = splitPolicies(customer, decision.send.length ? [...steady, ...decision.send] : steady);
  const vanishedKeys = vanished.map((p) => p.policyKey);
  if (issues.length) return invalid(input.key, issues, out, vanishedKeys);
  const checked = validate(out);
  if (checked.issues.length) return invalid(input.key, checked.issues, out, vanishedKeys);
  // The hash covers the steady, null-free payload only (not the one-off cancellations, not the
  // explicit nulls), so the pass after a vanished policy was forgotten or a cleared field was
  // sent as null is recognised as unchanged.
  // A field left out because its value was refused is part of the state too: when it turns
  // from refused to NULL, the customer changed (its old value in CareCycle must be cleared).
  const hashed = decision.send.length ? splitPolicies(customer, steady) : out;
  const hash = payloadHash(b.omitted?.length ? { omitted: b.omitted.map((o) => o.path), records: hashed } : hashed);
  const prev = previousPolicies(b, remembered);
  const present: Present = { customer: valuedOfCustomer(customer), policies: policies.map((p) => valuedOfPolicy(p.built.policy)) };
  const sentPolicies: SentPolicy[] = policies.map((p, i) => ({
    policyKey: p.built.policyKey,
    identifiers: p.built.identifiers,
    status: typeof p.built.policy.status === 'string' ? p.built.policy.status : null,
    valued: rememberValued(present.policies[i]!, omittedOf(b.omitted, i), prev[i]?.valued),
  }));
  const prevValued = input.sent?.valued;
  const valued = rememberValued(present.customer, omittedOf(b.omitted), prevValued);
  const commit: Commit = { hash, identity: identityOf(customer), valued, policies: sentPolicies, forgetPolicies: decision.forget };
  const unchanged = decision.send.length === 0 && matchesLastSend(input.sent, hash);
  let records = unchanged ? [] : checked.valid;
  if (!unchanged && s.nullValues !== 'omit') records = recordsWithClears(b, s, present, prevValued, prev, decision.send) ?? records;
  const result: AssembleResult = {
    key: input.key,
    verdict: unchanged ? 'unchanged' : 'send',
    records,
    commit,
    issues: [],
    vanished: vanishedKeys,
  };
  if (isRestoring(input.sent)) result.restoring = true;
  if (b.omitted && b.omitted.length > 0) result.omitted = b.omitted;
  if (!unchanged && remembered.length > 0) result.inDoubtPolicies = sentPolicies.filter((p, i) => changedSince(p, prev[i]));
  return result;
}

export function decide(input: DecideInput, settings: DecideSettings): AssembleResult {
  return input.row ? decidePresent(input, input.row, settings) : decideDeleted(input, settings);
}
