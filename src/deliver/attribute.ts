/**
 * Pure: which records of a request failed, according to a 2xx answer. CareCycle's answer names
 * a failed record by `externalId` in `errors[]` and counts `succeeded` and `failed`; when those
 * disagree (an error naming only an `id`, more failures counted than named, counts that do not
 * add up to the batch), the answer cannot say which records failed. Then the batch is sent again
 * in halves until every failure is pinned on one record: a failure nobody can place is never
 * counted as a delivery. A lone record is judged by what the answer says about it at all.
 */
import type { SyncAnswer } from '../carecycle/schema.js';

export type Attribution =
  /** `failed`: position in the batch → CareCycle's reason; every other record was applied. */
  { kind: 'attributed'; failed: Map<number, string> } | { kind: 'ambiguous'; reason: string };

const NO_REASON = 'CareCycle counted this record as failed without saying why';
const NEITHER = 'CareCycle counted this record neither as succeeded nor as failed';

export function attributeAnswer(externalIds: ReadonlyArray<string | null | undefined>, answer: SyncAnswer): Attribution {
  const position = new Map<string, number>();
  externalIds.forEach((e, i) => {
    if (e) position.set(e, i);
  });
  const failed = new Map<number, string>();
  const unnamed: string[] = [];
  for (const e of answer.errors) {
    const at = e.externalId ? position.get(e.externalId) : undefined;
    if (at === undefined) unnamed.push(e.error);
    else if (!failed.has(at)) failed.set(at, e.error);
  }
  if (externalIds.length === 1) return lone(answer, failed, unnamed);
  if (unnamed.length > 0)
    return { kind: 'ambiguous', reason: `${unnamed.length} error(s) in CareCycle's answer name no record of the request` };
  if (answer.failed !== undefined && answer.failed > failed.size) {
    return { kind: 'ambiguous', reason: `CareCycle counted ${answer.failed} failed records but named ${failed.size}` };
  }
  if (answer.succeeded !== undefined && answer.failed !== undefined && answer.succeeded + answer.failed !== externalIds.length) {
    return {
      kind: 'ambiguous',
      reason: `CareCycle counted ${answer.succeeded} succeeded and ${answer.failed} failed for ${externalIds.length} records`,
    };
  }
  return { kind: 'attributed', failed };
}

/** A request of one record: any error, or a failure count, is about this record. */
function lone(answer: SyncAnswer, named: Map<number, string>, unnamed: string[]): Attribution {
  const reason = named.get(0) ?? unnamed[0];
  if (reason !== undefined) return { kind: 'attributed', failed: new Map([[0, reason]]) };
  if ((answer.failed ?? 0) > 0) return { kind: 'attributed', failed: new Map([[0, NO_REASON]]) };
  if (answer.succeeded === 0 && answer.failed === 0) return { kind: 'attributed', failed: new Map([[0, NEITHER]]) };
  return { kind: 'attributed', failed: new Map() };
}
