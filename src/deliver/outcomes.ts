/**
 * From CareCycle's answers to one typed outcome per record: per-record `errors[]` in a 200 are
 * matched by externalId; a whole-request 400/422 is split (splitPlan) until each bad record is
 * alone, and that record is rejected with the API's field path and message.
 */
import { formatPath, type AcaRecord, type SyncResponse, type SyncResult, type ValidationIssue } from '../carecycle/schema.js';
import { splitPlan } from './plan.js';
import { sendBatch, type SendContext } from './send.js';

export interface DeliveryItem {
  /** The caller's key (e.g. the pending CRM key); parts of one customer may share it. */
  key: string;
  record: AcaRecord;
}

interface OutcomeBase {
  key: string;
  /** Position of the item in the `deliver` input. */
  index: number;
  externalId: string | null;
}

export type RecordOutcome =
  | (OutcomeBase & {
      status: 'delivered';
      customerId?: string;
      /**
       * Policies CareCycle terminated by itself while applying this record (carecycle-api.md
       * §2.4: creating a policy terminates the customer's year-old ones), named by identifier
       * or CareCycle id. Absent when there were none.
       */
      autoTerminated?: string[];
    })
  | (OutcomeBase & { status: 'rejected'; reason: string; fieldPath?: string; httpStatus?: number });

export async function runBatch(
  ctx: SendContext,
  items: readonly DeliveryItem[],
  batch: readonly number[],
  outcomes: RecordOutcome[],
  signal: AbortSignal,
): Promise<void> {
  const final = await sendBatch(ctx, batch.map((i) => (items[i] as DeliveryItem).record), signal);
  if (final.kind === 'ok') {
    attribute(ctx, items, batch, final.body, final.status, outcomes);
    return;
  }
  const groups = splitPlan(batch, final.issues);
  if (groups.length === 0) {
    const i = batch[0] as number;
    outcomes[i] = rejected(items, i, { ...describeIssues(final.issues, final.message), httpStatus: final.status });
    return;
  }
  ctx.log.info({ records: batch.length, groups: groups.length, httpStatus: final.status }, 'request refused as a whole; splitting it to isolate the bad records');
  for (const g of groups) await runBatch(ctx, items, g, outcomes, signal);
}

/** Pure: the reason and field path of a lone record's refusal, from the API's issues. */
export function describeIssues(issues: readonly ValidationIssue[], message: string): { reason: string; fieldPath?: string } {
  if (issues.length === 0) return { reason: message };
  const paths = issues.map((i) => {
    const p = i.path[0] === 'records' && typeof i.path[1] === 'number' ? i.path.slice(2) : i.path;
    return formatPath(p);
  });
  const reason = issues.map((i, n) => (paths[n] ? `${paths[n]}: ${i.message}` : i.message)).join('; ');
  return paths[0] ? { reason, fieldPath: paths[0] } : { reason };
}

function attribute(ctx: SendContext, items: readonly DeliveryItem[], batch: readonly number[], body: SyncResponse, status: number, outcomes: RecordOutcome[]): void {
  const errorsByExt = new Map<string, string>();
  const unmatched: string[] = [];
  const batchExt = new Set(batch.map((i) => items[i]?.record.externalId).filter((e): e is string => !!e));
  for (const e of body.errors) {
    if (e.externalId && batchExt.has(e.externalId)) errorsByExt.set(e.externalId, e.error);
    else unmatched.push(e.error);
  }
  const results = new Map<string, SyncResult>();
  for (const r of body.results ?? []) if (r.externalId) results.set(r.externalId, r);
  for (const i of batch) {
    const record = (items[i] as DeliveryItem).record;
    const ext = record.externalId ?? null;
    const err = (ext ? errorsByExt.get(ext) : undefined) ?? (batch.length === 1 ? unmatched[0] : undefined);
    if (err !== undefined) {
      outcomes[i] = rejected(items, i, { reason: err, httpStatus: status });
      continue;
    }
    const result = ext ? results.get(ext) : undefined;
    const terminated = result ? autoTerminated(record, result) : [];
    outcomes[i] = { ...base(items, i), status: 'delivered', ...(result ? { customerId: result.id } : {}), ...(terminated.length ? { autoTerminated: terminated } : {}) };
  }
  if (unmatched.length > 0 && batch.length > 1) {
    ctx.log.warn({ errors: unmatched.length }, 'CareCycle reported errors that name no record of the request; those records count as delivered');
  }
}

const TERMINATED = 'Terminated';

/**
 * Pure: the policies of a result that went to Terminated without this record asking for it.
 * A policy we sent as Terminated is ours; one the echo cannot tell apart from ours (no
 * identifiers) counts as ours when the record terminated any policy, so nothing is claimed
 * that might have been asked for.
 */
export function autoTerminated(record: AcaRecord, result: SyncResult): string[] {
  const sentTerminated = (record.policies ?? []).filter((p) => p.status === TERMINATED);
  const ours = (p: NonNullable<SyncResult['policies']>[number]) =>
    sentTerminated.some((s) => (p.healthSherpaPolicyId && s.healthSherpaPolicyId === p.healthSherpaPolicyId) || (p.carrierAssignedPolicyId && s.carrierAssignedPolicyId === p.carrierAssignedPolicyId)) ||
    (!p.healthSherpaPolicyId && !p.carrierAssignedPolicyId && sentTerminated.length > 0);
  const out: string[] = [];
  for (const p of result.policies ?? []) {
    if (p.status !== TERMINATED || p.previousStatus === null || p.previousStatus === TERMINATED || ours(p)) continue;
    out.push(p.healthSherpaPolicyId ?? p.carrierAssignedPolicyId ?? p.id ?? '(unnamed policy)');
  }
  return out;
}

function base(items: readonly DeliveryItem[], i: number): OutcomeBase {
  const it = items[i] as DeliveryItem;
  return { key: it.key, index: i, externalId: it.record.externalId ?? null };
}

function rejected(items: readonly DeliveryItem[], i: number, d: { reason: string; fieldPath?: string; httpStatus?: number }): RecordOutcome {
  return { ...base(items, i), status: 'rejected', ...d };
}
