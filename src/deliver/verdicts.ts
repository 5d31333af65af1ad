/**
 * Pure: what happens to each claimed customer key once its records were assembled and (maybe)
 * sent. A customer's records (several when it has more than 10 policies) all have to be
 * accepted for the customer to count as delivered; one refusal dead-letters the customer with
 * that refusal's reason, and a later change or `dead-letters retry` sends it again whole.
 */
import type { AssembleResult } from '../assemble/index.js';
import type { RecordOutcome } from './outcomes.js';

export type KeyVerdict =
  /** `autoTerminated`: policies CareCycle terminated by itself meanwhile (see RecordOutcome). */
  | { kind: 'delivered'; key: string; result: AssembleResult; records: number; autoTerminated: string[]; createdPolicies?: number }
  /** Nothing to send (unchanged payload, or a delete that needs no request): commit and drop. */
  | { kind: 'skipped'; key: string; result: AssembleResult; reason: 'unchanged' | 'deleted' }
  | { kind: 'dead'; key: string; reason: string; fieldPath: string | null; httpStatus: number | null; payload: unknown };

/** Results that need a request, as the client's items (key + record), in order. */
export function itemsToSend(results: readonly AssembleResult[]) {
  return results.flatMap((r) =>
    r.records.length > 0 && r.verdict !== 'invalid' ? r.records.map((record) => ({ key: r.key, record })) : [],
  );
}

/** One verdict per assembled key, given the client's outcomes for the items of `itemsToSend`. */
export function verdictsFor(results: readonly AssembleResult[], outcomes: readonly RecordOutcome[]): KeyVerdict[] {
  const byKey = new Map<string, RecordOutcome[]>();
  for (const o of outcomes) {
    const list = byKey.get(o.key);
    if (list) list.push(o);
    else byKey.set(o.key, [o]);
  }
  return results.map((r): KeyVerdict => {
    if (r.verdict === 'invalid') {
      const first = r.issues[0];
      const reason = r.issues.map((i) => `${i.path}: ${i.reason}`).join('; ') || 'invalid record';
      return { kind: 'dead', key: r.key, reason, fieldPath: first?.path ?? null, httpStatus: null, payload: r.payload ?? null };
    }
    if (r.records.length === 0)
      return { kind: 'skipped', key: r.key, result: r, reason: r.verdict === 'deleted' ? 'deleted' : 'unchanged' };
    const mine = byKey.get(r.key) ?? [];
    if (mine.length !== r.records.length) {
      throw new Error(`delivery outcome mismatch for customer ${r.key}: ${r.records.length} records sent, ${mine.length} outcomes`);
    }
    const refused = mine.find((o) => o.status === 'rejected');
    if (refused && refused.status === 'rejected') {
      return {
        kind: 'dead',
        key: r.key,
        reason: refused.reason,
        fieldPath: refused.fieldPath ?? null,
        httpStatus: refused.httpStatus ?? null,
        payload: r.records,
      };
    }
    const autoTerminated = mine.flatMap((o) => (o.status === 'delivered' ? (o.autoTerminated ?? []) : []));
    const createdPolicies = mine.reduce((n, o) => n + (o.status === 'delivered' ? (o.createdPolicies ?? 0) : 0), 0);
    return {
      kind: 'delivered',
      key: r.key,
      result: r,
      records: r.records.length,
      autoTerminated,
      ...(createdPolicies ? { createdPolicies } : {}),
    };
  });
}
