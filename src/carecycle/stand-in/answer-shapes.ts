/**
 * Ways the stand-in can phrase a successful answer, to prove the daemon is not fooled by them.
 * The real API's answer is documented in two versions (with and without `results`), and much of
 * it is not documented at all: the exact key names, what `errors[].id` is, whether the counts
 * always agree with `errors`. Each variant here is one such reading; `current` is ours.
 */
import type { SyncErrorItem, SyncResult } from '../schema.js';

export const ANSWER_SHAPES = ['current', 'legacy', 'drifted'] as const;
/**
 * `current`: counts, errors and results. `legacy`: the older documented answer, without
 * `results`. `drifted`: extra fields everywhere, error items say `message` instead of `error`,
 * changed policies lack `previousStatus`, and there is no `succeeded`.
 */
export type AnswerShape = (typeof ANSWER_SHAPES)[number];

export const ERROR_ITEM_FORMS = ['full', 'id-only'] as const;
/** `id-only`: error items carry only `id` (the customer's CareCycle id, null when none). */
export type ErrorItemForm = (typeof ERROR_ITEM_FORMS)[number];

export interface AnswerOptions {
  shape: AnswerShape;
  errorItems: ErrorItemForm;
  /**
   * Counts that disagree with `errors`: `succeeded` counts every record, failed ones too, and
   * `errors` lists only the first failure while `failed` counts them all.
   */
  countsDisagree: boolean;
}

export interface PlainAnswer {
  succeeded: number;
  failed: number;
  errors: SyncErrorItem[];
  results: SyncResult[];
}

/** Pure: the answer as the options phrase it. */
export function phraseAnswer(a: PlainAnswer, o: AnswerOptions): Record<string, unknown> {
  let errors: Array<Record<string, unknown>> = a.errors.map((e) => (o.errorItems === 'id-only' ? { id: e.id ?? null } : { ...e }));
  let succeeded = a.succeeded;
  if (o.countsDisagree) {
    succeeded = a.succeeded + a.failed;
    errors = errors.slice(0, 1);
  }
  const out: Record<string, unknown> = { succeeded, failed: a.failed, errors };
  if (o.shape === 'current') return { ...out, results: a.results };
  if (o.shape === 'legacy') return out;
  return {
    failed: a.failed,
    errors: errors.map(({ error, ...rest }) => ({ ...rest, ...(error !== undefined ? { message: error } : {}), code: 'RECORD_FAILED' })),
    results: a.results.map((r) => ({
      ...r,
      syncedAt: new Date(0).toISOString(),
      policies: r.policies?.map(({ previousStatus: _, ...p }) => ({ ...p, source: 'sync' })),
    })),
    requestId: 'stand-in-request',
    processedAt: new Date(0).toISOString(),
  };
}
