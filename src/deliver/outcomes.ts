/**
 * From CareCycle's answers to one typed outcome per record: per-record `errors[]` in a 200 are
 * matched by externalId; a whole-request 400/422 is split (splitPlan) until each bad record is
 * alone, and that record is rejected with the API's field path and message.
 */
import { formatPath, type AcaRecord, type SyncResponse, type ValidationIssue } from '../carecycle/schema.js';
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
  | (OutcomeBase & { status: 'delivered'; customerId?: string })
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
  const customerIds = new Map<string, string>();
  for (const r of body.results ?? []) if (r.externalId) customerIds.set(r.externalId, r.id);
  for (const i of batch) {
    const ext = (items[i] as DeliveryItem).record.externalId ?? null;
    const err = (ext ? errorsByExt.get(ext) : undefined) ?? (batch.length === 1 ? unmatched[0] : undefined);
    if (err !== undefined) outcomes[i] = rejected(items, i, { reason: err, httpStatus: status });
    else outcomes[i] = { ...base(items, i), status: 'delivered', ...(ext && customerIds.has(ext) ? { customerId: customerIds.get(ext) } : {}) };
  }
  if (unmatched.length > 0 && batch.length > 1) {
    ctx.log.warn({ errors: unmatched.length }, 'CareCycle reported errors that name no record of the request; those records count as delivered');
  }
}

function base(items: readonly DeliveryItem[], i: number): OutcomeBase {
  const it = items[i] as DeliveryItem;
  return { key: it.key, index: i, externalId: it.record.externalId ?? null };
}

function rejected(items: readonly DeliveryItem[], i: number, d: { reason: string; fieldPath?: string; httpStatus?: number }): RecordOutcome {
  return { ...base(items, i), status: 'rejected', ...d };
}
