/**
 * From CareCycle's answers to one typed outcome per record: per-record `errors[]` in a 200 are
 * matched by externalId (attributeAnswer); a whole-request 400/422 is split (splitPlan) until
 * each bad record is alone, and that record is rejected with the API's field path and message.
 */
import { formatPath, type AcaRecord, type SyncAnswer, type SyncResult, type ValidationIssue } from '../carecycle/schema.js';
import { attributeAnswer } from './attribute.js';
import { splitPlan } from './plan.js';
import { describeFailures, sendBatch, type AttemptFailure, type SendContext } from './send.js';

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
       * Policies CareCycle terminated by itself while applying this record (docs/carecycle-api.md,
       * A17: creating a policy terminates the customer's year-old ones), named by identifier
       * or CareCycle id. Absent when there were none.
       */
      autoTerminated?: string[];
      /** Policies this record created (previousStatus null in the echo); absent when none. */
      createdPolicies?: number;
    })
  | (OutcomeBase & { status: 'rejected'; reason: string; fieldPath?: string; httpStatus?: number });

/** A lone record that kept failing before anything showed whether CareCycle answers others. */
export interface Undecided {
  index: number;
  /** `ctx.answers.count` when it started failing: a higher count later means others get through. */
  since: number;
  /** Its latest failed attempts in a row (at most `poison.giveUpAfter`). */
  failures: AttemptFailure[];
}

/**
 * Sends `batch` (item indices) and fills `outcomes`, splitting it when the API refuses it as a
 * whole, when its answer cannot say which records failed, or when it keeps failing without an
 * answer. A lone record that fails `poison.giveUpAfter` times in a row, the last time after some
 * other request got through, is rejected with those failures as the reason. While nothing gets
 * through (an outage) nothing is rejected: every record waits and is tried again.
 */
export async function deliverBatch(
  ctx: SendContext,
  items: readonly DeliveryItem[],
  batch: readonly number[],
  outcomes: RecordOutcome[],
  signal: AbortSignal,
): Promise<void> {
  let undecided = await runBatch(ctx, items, batch, outcomes, signal, 0);
  while (undecided.length > 0) {
    const next: Undecided[] = [];
    for (const u of undecided) {
      const othersGotThrough = ctx.answers.count > u.since;
      // Others got through: one more failure settles it. Otherwise wait out the outage.
      const again = await runBatch(
        ctx,
        items,
        [u.index],
        outcomes,
        signal,
        u.failures.length,
        othersGotThrough ? 1 : ctx.poison.giveUpAfter,
      );
      for (const a of again) {
        const failures = [...u.failures, ...a.failures].slice(-ctx.poison.giveUpAfter);
        if (othersGotThrough) reject(ctx, items, outcomes, a.index, failures);
        else next.push({ index: a.index, since: u.since, failures });
      }
    }
    undecided = next;
  }
}

function reject(ctx: SendContext, items: readonly DeliveryItem[], outcomes: RecordOutcome[], i: number, failures: AttemptFailure[]): void {
  const reason = describeFailures(failures);
  const last = failures[failures.length - 1];
  ctx.log.warn(
    { key: (items[i] as DeliveryItem).key, reason },
    'a record keeps failing while other requests are answered; dead-lettering it',
  );
  outcomes[i] = rejected(items, i, { reason, ...(last?.status ? { httpStatus: last.status } : {}) });
}

async function runBatch(
  ctx: SendContext,
  items: readonly DeliveryItem[],
  batch: readonly number[],
  outcomes: RecordOutcome[],
  signal: AbortSignal,
  priorFailures: number,
  loneLimit = Math.max(1, ctx.poison.giveUpAfter - 1),
): Promise<Undecided[]> {
  const records = batch.map((i) => (items[i] as DeliveryItem).record);
  const since = ctx.answers.count;
  const giveUpAfter = batch.length > 1 ? ctx.poison.splitAfter : loneLimit;
  const final = await sendBatch(ctx, records, signal, { giveUpAfter, priorFailures });
  if (final.kind === 'ok') {
    const verdict = attributeAnswer(
      records.map((r) => r.externalId),
      final.body,
    );
    if (verdict.kind === 'attributed') {
      record(items, batch, final.body, final.status, verdict.failed, outcomes);
      return [];
    }
    ctx.log.warn(
      { records: batch.length, why: verdict.reason },
      "CareCycle's answer does not say which records failed; sending the halves again to find out",
    );
    return runGroups(ctx, items, halves(batch), outcomes, signal, 0);
  }
  if (final.kind === 'unanswered') {
    if (batch.length === 1) return [{ index: batch[0] as number, since, failures: final.failures }];
    ctx.log.warn(
      { records: batch.length, failures: final.failures.length },
      'a request keeps failing; splitting it to find out whether one record causes it',
    );
    // The halves start their backoff afresh: a poison record is found in seconds, not minutes.
    // In an outage the lone records' own streaks bring the backoff back to its cap.
    return runGroups(ctx, items, halves(batch), outcomes, signal, 0);
  }
  const groups = splitPlan(batch, final.issues);
  if (groups.length === 0) {
    const i = batch[0] as number;
    outcomes[i] = rejected(items, i, { ...describeIssues(final.issues, final.message), httpStatus: final.status });
    return [];
  }
  ctx.log.info(
    { records: batch.length, groups: groups.length, httpStatus: final.status },
    'request refused as a whole; splitting it to isolate the bad records',
  );
  return runGroups(ctx, items, groups, outcomes, signal, 0);
}

async function runGroups(
  ctx: SendContext,
  items: readonly DeliveryItem[],
  groups: readonly number[][],
  outcomes: RecordOutcome[],
  signal: AbortSignal,
  priorFailures: number,
): Promise<Undecided[]> {
  const undecided: Undecided[] = [];
  for (const g of groups) undecided.push(...(await runBatch(ctx, items, g, outcomes, signal, priorFailures)));
  return undecided;
}

function halves(batch: readonly number[]): number[][] {
  const mid = Math.ceil(batch.length / 2);
  return [batch.slice(0, mid), batch.slice(mid)];
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

function record(
  items: readonly DeliveryItem[],
  batch: readonly number[],
  body: SyncAnswer,
  status: number,
  failed: ReadonlyMap<number, string>,
  outcomes: RecordOutcome[],
): void {
  const results = new Map<string, SyncResult>();
  for (const r of body.results ?? []) if (r.externalId) results.set(r.externalId, r);
  batch.forEach((i, pos) => {
    const reason = failed.get(pos);
    if (reason !== undefined) {
      outcomes[i] = rejected(items, i, { reason, httpStatus: status });
      return;
    }
    const rec = (items[i] as DeliveryItem).record;
    const result = rec.externalId ? results.get(rec.externalId) : undefined;
    const terminated = result ? autoTerminated(rec, result) : [];
    const created = result?.policies?.filter((p) => p.previousStatus === null).length ?? 0;
    outcomes[i] = {
      ...base(items, i),
      status: 'delivered',
      ...(result ? { customerId: result.id } : {}),
      ...(terminated.length ? { autoTerminated: terminated } : {}),
      ...(created ? { createdPolicies: created } : {}),
    };
  });
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
    sentTerminated.some(
      (s) =>
        (p.healthSherpaPolicyId && s.healthSherpaPolicyId === p.healthSherpaPolicyId) ||
        (p.carrierAssignedPolicyId && s.carrierAssignedPolicyId === p.carrierAssignedPolicyId),
    ) ||
    (!p.healthSherpaPolicyId && !p.carrierAssignedPolicyId && sentTerminated.length > 0);
  const out: string[] = [];
  for (const p of result.policies ?? []) {
    if (p.status !== TERMINATED || p.previousStatus == null || p.previousStatus === TERMINATED || ours(p)) continue;
    out.push(p.healthSherpaPolicyId ?? p.carrierAssignedPolicyId ?? p.id ?? '(unnamed policy)');
  }
  return out;
}

function base(items: readonly DeliveryItem[], i: number): OutcomeBase {
  const it = items[i] as DeliveryItem;
  return { key: it.key, index: i, externalId: it.record.externalId ?? null };
}

function rejected(
  items: readonly DeliveryItem[],
  i: number,
  d: { reason: string; fieldPath?: string; httpStatus?: number },
): RecordOutcome {
  return { ...base(items, i), status: 'rejected', ...d };
}
