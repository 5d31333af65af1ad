/**
 * Sends one batch until CareCycle gives a final answer about its content (accepted, or refused
 * for its content). Everything else is retried for as long as it takes: 429 after its
 * retryAfter, 5xx/timeouts/resets after a jittered backoff. Only the AbortSignal (shutdown) or
 * a fatal answer (key rejected, no such endpoint) ends the loop early; nothing is dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';
import type { AcaRecord, SyncResponse, ValidationIssue } from '../carecycle/schema.js';
import { backoffDelayMs, type BackoffConfig } from './backoff.js';
import { classifyResponse, type Verdict } from './classify.js';
import { ApiKeyRejectedError, EndpointError } from './errors.js';
import type { RateLimiter } from './limiter.js';
import type { HttpTransport } from './transport.js';

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
}

export type BatchFinal =
  | { kind: 'ok'; status: number; body: SyncResponse }
  | { kind: 'invalid'; status: number; message: string; issues: ValidationIssue[] };

export async function sendBatch(ctx: SendContext, records: readonly AcaRecord[], signal: AbortSignal): Promise<BatchFinal> {
  const payload = JSON.stringify({ records });
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    signal.throwIfAborted();
    const rateLimitWaitMs = await ctx.limiter.acquire(signal);
    const t0 = performance.now();
    const { status, verdict } = await attempt1(ctx, payload, signal);
    const latencyMs = performance.now() - t0;
    ctx.observer?.({ status, verdict: verdict.kind === 'retry' && status === 0 ? 'network-error' : verdict.kind, records: records.length, latencyMs, rateLimitWaitMs, attempt });
    switch (verdict.kind) {
      case 'ok':
        return { kind: 'ok', status, body: verdict.body };
      case 'invalid':
        return { kind: 'invalid', status, message: verdict.message, issues: verdict.issues };
      case 'auth':
        throw fatal(ctx, new ApiKeyRejectedError(verdict.status, verdict.code, verdict.message));
      case 'fatal':
        throw fatal(ctx, new EndpointError(verdict.status, verdict.message));
      case 'rate-limited': {
        const waitMs = verdict.retryAfterMs ?? ctx.defaultRetryAfterMs;
        ctx.log.warn({ records: records.length, waitMs }, 'CareCycle rate limit hit (429); waiting before retrying');
        ctx.limiter.blockUntil(Date.now() + waitMs);
        break;
      }
      case 'retry': {
        const delay = backoffDelayMs(failures++, ctx.backoff, ctx.random);
        ctx.log.warn({ records: records.length, reason: verdict.reason, attempt, retryInMs: delay }, 'delivery attempt failed; retrying');
        await sleep(delay, undefined, { signal });
        break;
      }
    }
  }
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
