/**
 * Sends one batch until CareCycle gives a final answer about its content (accepted, or refused
 * for its content). 429s wait for their retryAfter and do not count as failures. 5xx, timeouts,
 * resets and unreadable 2xx are retried after a jittered backoff until `giveUpAfter` of them, when
 * the caller decides (split the batch, or judge a lone record); without a limit, forever. Only
 * the AbortSignal (shutdown) or a fatal answer (key rejected, wrong endpoint) ends it early.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import type { AcaRecord, SyncAnswer, ValidationIssue } from '../carecycle/schema.js';
import { backoffDelayMs, type BackoffConfig } from './backoff.js';
import { classifyResponse, type Verdict } from './classify.js';
import { ApiKeyRejectedError, EndpointError } from './errors.js';
import type { RateLimiter } from './limiter.js';
import type { HttpTransport } from './transport.js';
import type { RequestLedger } from './ledger.js';

export const SYNC_PATH = '/v2/sync/aca';

/** What the observer hears about every HTTP attempt (for metrics and `status`). */
export interface RequestObservation {
  /** HTTP status, or 0 when no answer came (timeout, reset, refused). */
  status: number;
  verdict: Verdict['kind'] | 'network-error';
  records: number;
  latencyMs: number;
  /** Time spent waiting for the limiter before this attempt. */
  rateLimitWaitMs: number;
  /** 0 for the first attempt of a batch. */
  attempt: number;
}

export interface SendContext {
  transport: HttpTransport;
  limiter: RateLimiter;
  headers: Record<string, string>;
  timeoutMs: number;
  backoff: BackoffConfig;
  log: Logger;
  observer?: (o: RequestObservation) => void;
  random?: () => number;
  /** Fallback wait when a 429 carries neither retryAfter nor Retry-After. */
  defaultRetryAfterMs: number;
  /** Called on a fatal verdict, before throwing, so sibling batches stop too. */
  onFatal(err: Error): void;
  /**
   * Counts answers that prove CareCycle processes requests (a 2xx, a validation refusal), over
   * the client's life: a lone record that keeps failing while this count moves is the problem.
   */
  answers: { count: number };
  /** Failed attempts before a batch is split, and before a lone record is judged. */
  poison: { splitAfter: number; giveUpAfter: number };
  /** A 401 may mean the key was rotated: returns true when a different key is now in use. */
  onUnauthorized?(): boolean;
  /** Where requests are recorded as they leave (the budget shared across restarts and commands). */
  ledger?: RequestLedger;
  /** Hears the requests other commands recorded in the last window (the limiter counts new ones). */
  onOthers?(others: ReadonlyArray<{ id: number; agoMs: number }>): void;
}

/** One failed attempt, as the dead-letter reason will describe it. */
export interface AttemptFailure {
  /** HTTP status, 0 when no answer came. */
  status: number;
  label: string;
}

export type BatchFinal =
  | { kind: 'ok'; status: number; body: SyncAnswer }
  | { kind: 'invalid'; status: number; message: string; issues: ValidationIssue[] }
  /** `giveUpAfter` attempts failed in a row without an answer about the content. */
  | { kind: 'unanswered'; failures: AttemptFailure[] };

export interface SendLimits {
  /** Return `unanswered` after this many failed attempts (default: never). */
  giveUpAfter?: number;
  /** Failures already behind this batch (a lone record tried again): the backoff carries on from there. */
  priorFailures?: number;
}

export async function sendBatch(
  ctx: SendContext,
  records: readonly AcaRecord[],
  signal: AbortSignal,
  limits: SendLimits = {},
): Promise<BatchFinal> {
  const payload = JSON.stringify({ records });
  const failed: AttemptFailure[] = [];
  let failures = limits.priorFailures ?? 0;
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const rateLimitWaitMs = await ctx.limiter.acquire(signal);
    const t0 = performance.now();
    // Not awaited: the insert leaves before the request does, and costs the request no time.
    const id = ctx.ledger?.sent(records.length);
    void id?.then((r) => ctx.onOthers?.(r.others));
    const { status, verdict } = await attempt1(ctx, payload, signal);
    const latencyMs = performance.now() - t0;
    ctx.ledger?.answered(id, status);
    ctx.observer?.({
      status,
      verdict: verdict.kind === 'retry' && status === 0 ? 'network-error' : verdict.kind,
      records: records.length,
      latencyMs,
      rateLimitWaitMs,
      attempt,
    });
    switch (verdict.kind) {
      case 'ok':
        ctx.answers.count++;
        return { kind: 'ok', status, body: verdict.body };
      case 'invalid':
        ctx.answers.count++;
        return { kind: 'invalid', status, message: verdict.message, issues: verdict.issues };
      case 'auth':
        // A rotated key file is read again before the next try; only the same key refused again is fatal.
        if (verdict.refusal === 'unauthorized' && ctx.onUnauthorized?.()) {
          ctx.log.warn({ records: records.length }, 'CareCycle answered 401; the API key file holds a new key, trying it');
          break;
        }
        throw fatal(ctx, new ApiKeyRejectedError(verdict.status, verdict.code, verdict.message, verdict.refusal));
      case 'fatal':
        throw fatal(ctx, new EndpointError(verdict.status, verdict.message));
      case 'rate-limited': {
        const waitMs = verdict.retryAfterMs ?? ctx.defaultRetryAfterMs;
        ctx.log.warn({ records: records.length, waitMs }, 'CareCycle rate limit hit (429); waiting before retrying');
        ctx.limiter.blockUntil(Date.now() + waitMs);
        ctx.ledger?.paused(Date.now() + waitMs);
        break;
      }
      case 'retry': {
        failed.push({ status, label: failureLabel(status, verdict.reason) });
        if (limits.giveUpAfter !== undefined && failed.length >= limits.giveUpAfter) return { kind: 'unanswered', failures: failed };
        const delay = backoffDelayMs(failures++, ctx.backoff, ctx.random);
        ctx.log.warn({ records: records.length, reason: verdict.reason, attempt, retryInMs: delay }, 'delivery attempt failed; retrying');
        await sleep(delay, undefined, { signal });
        break;
      }
    }
  }
}

function failureLabel(status: number, reason: string): string {
  if (status === 0) return /^no answer within/.test(reason) ? `gave ${reason}` : `could not be reached (${reason})`;
  return /unreadable body/.test(reason) ? `answered ${status} with an unreadable body` : `answered ${status}`;
}

/** Pure: "CareCycle answered 500 8 times", or each kind of failure with its count. */
export function describeFailures(failures: readonly AttemptFailure[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.label, (counts.get(f.label) ?? 0) + 1);
  const parts = [...counts].map(([label, n]) => `${label} ${n} time${n === 1 ? '' : 's'}`);
  return `CareCycle ${parts.join('; ')}`;
}

function fatal(ctx: SendContext, err: Error): Error {
  ctx.log.error({ err: err.message }, 'delivery stopped');
  ctx.onFatal(err);
  return err;
}

/** One HTTP attempt; network failures and our own timeout become a `retry` verdict. */
async function attempt1(ctx: SendContext, payload: string, signal: AbortSignal): Promise<{ status: number; verdict: Verdict }> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  try {
    const res = await ctx.transport.post(SYNC_PATH, payload, ctx.headers, AbortSignal.any([signal, timeout]));
    return { status: res.status, verdict: classifyResponse(res) };
  } catch (err) {
    signal.throwIfAborted();
    const reason = timeout.aborted ? `no answer within ${ctx.timeoutMs} ms` : describeNetworkError(err);
    return { status: 0, verdict: { kind: 'retry', reason } };
  }
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message ?? ''}` : String(e?.message ?? err);
}
