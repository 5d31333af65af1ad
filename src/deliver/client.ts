/**
 * The CareCycle delivery client (docs/architecture.md, "Deliver"): turns records into
 * `/v2/sync/aca` requests of at most 100 records, inside the rate limit, and returns one typed
 * outcome per record. It knows nothing about the pending queue; the delivery loop built on top
 * decides what to do with each outcome (remove from pending, dead-letter) and when to call again.
 */
import type { Logger } from '../log/logger.js';
import { registerSecret } from '../log/secrets.js';
import { MAX_RECORDS_PER_REQUEST } from '../carecycle/enums.js';
import type { AcaRecord } from '../carecycle/schema.js';
import { DEFAULT_BACKOFF, type BackoffConfig } from './backoff.js';
import { RateLimiter } from './limiter.js';
import { planWaves } from './plan.js';
import { deliverBatch, type DeliveryItem, type RecordOutcome } from './outcomes.js';
import { createUndiciTransport, type HttpTransport } from './transport.js';
import type { ApiNetworkOptions } from './dispatcher.js';
import { ApiKeyRejectedError } from './errors.js';
import type { RecordedBudget, RequestLedger } from './ledger.js';
import type { RequestObservation, SendContext } from './send.js';

export type { DeliveryItem, RecordOutcome, RequestObservation };

export interface DeliveryClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Requests per window (CareCycle: 60 a minute). */
  requestsPerMinute: number;
  /** Per-request timeout, ms. */
  timeoutMs: number;
  log: Logger;
  observer?: (o: RequestObservation) => void;
  /** The limiter's window (default 60,000 ms); tests shrink it. */
  windowMs?: number;
  /** Extra margin on the window, ms (default 1% of it, at most 250). */
  marginMs?: number;
  /** Batches of one wave in flight at once (default 4). */
  maxInFlight?: number;
  /** Records per request, at most 100. */
  maxRecordsPerRequest?: number;
  backoff?: BackoffConfig;
  /** After a rejected key, refuse to send for this long (no retry storm). Default 60 s. */
  authCooldownMs?: number;
  /** Failed attempts (5xx, timeouts, resets) before a batch is split in halves (default 3). */
  splitAfterFailures?: number;
  /** Failed attempts before a lone record that fails while others get through is rejected (default 8). */
  rejectAfterFailures?: number;
  /**
   * Reads the API key again (the key file, for keys rotated without a restart); called after a
   * 401 and before a call inside the cool-down. Undefined: the key is fixed.
   */
  reloadApiKey?: () => string | undefined;
  /** Records each request as it leaves (see ledger.ts). */
  ledger?: RequestLedger;
  /** Requests of the last window sent before this client existed, and a 429 pause in force. */
  seed?: RecordedBudget;
  /** Tests pass their own transport; default: an undici Pool on baseUrl. */
  transport?: HttpTransport;
  /** Proxy and extra CAs for the default transport. */
  network?: ApiNetworkOptions;
  random?: () => number;
}

export interface DeliveryClient {
  /**
   * Delivers the items; resolves with one outcome per item, in input order. Rejects with
   * ApiKeyRejectedError / EndpointError (FatalError) or with the signal's reason on abort:
   * then nothing is reported and the caller re-sends later (CareCycle matching makes that safe).
   */
  deliver(items: readonly DeliveryItem[], signal?: AbortSignal): Promise<RecordOutcome[]>;
  /** Resolves when a request could leave at once (rate budget free), without taking the slot. */
  ready(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export function createDeliveryClient(opts: DeliveryClientOptions): DeliveryClient {
  registerSecret(opts.apiKey);
  const windowMs = opts.windowMs ?? 60_000;
  const transport =
    opts.transport ??
    createUndiciTransport(opts.baseUrl, {
      timeoutMs: opts.timeoutMs,
      connections: opts.maxInFlight ?? 4,
      ...(opts.network ? { network: opts.network } : {}),
    });
  const limiter = new RateLimiter({ limit: opts.requestsPerMinute, windowMs, marginMs: opts.marginMs });
  if (opts.seed) limiter.seed(opts.seed.sentAgoMs, opts.seed.pauseLeftMs);
  const log = opts.log.child({ component: 'deliver' });
  const maxPer = Math.min(opts.maxRecordsPerRequest ?? MAX_RECORDS_PER_REQUEST, MAX_RECORDS_PER_REQUEST);
  let fatalUntil = 0;
  let lastFatal: Error | undefined;
  let apiKey = opts.apiKey;
  const answers = { count: 0 };
  /** Rows of other commands' requests the limiter already counts. */
  const absorbed = new Set<number>(opts.seed?.otherIds ?? []);
  const onOthers = (others: ReadonlyArray<{ id: number; agoMs: number }>) => {
    const fresh = others.filter((o) => !absorbed.has(o.id));
    for (const o of fresh) absorbed.add(o.id);
    if (fresh.length > 0) limiter.absorb(fresh.map((o) => o.agoMs));
    if (absorbed.size > 10_000) absorbed.clear();
  };
  const poison = { splitAfter: opts.splitAfterFailures ?? 3, giveUpAfter: opts.rejectAfterFailures ?? 8 };
  /** True when the key source now holds a different key (then it is the one sent). */
  const keyChanged = (): boolean => {
    const fresh = opts.reloadApiKey?.();
    if (!fresh || fresh === apiKey) return false;
    registerSecret(fresh);
    apiKey = fresh;
    return true;
  };

  const deliver = async (items: readonly DeliveryItem[], signal?: AbortSignal): Promise<RecordOutcome[]> => {
    if (lastFatal && Date.now() < fatalUntil) {
      if (!(lastFatal instanceof ApiKeyRejectedError && keyChanged())) throw lastFatal;
      log.info('the API key file holds a new key; trying it');
      lastFatal = undefined;
    }
    const stop = new AbortController();
    const combined = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const ctx: SendContext = {
      transport,
      limiter,
      log,
      observer: opts.observer,
      random: opts.random,
      headers,
      timeoutMs: opts.timeoutMs,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      // A 429 that says nothing about the wait: the documented retryAfter is a whole window (60 s).
      defaultRetryAfterMs: windowMs,
      answers,
      poison,
      ledger: opts.ledger,
      onOthers,
      onUnauthorized: () => {
        if (!keyChanged()) return false;
        headers['x-api-key'] = apiKey;
        return true;
      },
      onFatal: (err) => {
        lastFatal = err;
        fatalUntil = Date.now() + (opts.authCooldownMs ?? 60_000);
        stop.abort(err);
      },
    };
    const outcomes: RecordOutcome[] = new Array(items.length);
    try {
      for (const wave of planWaves(
        items.map((i) => i.record),
        maxPer,
      )) {
        await runPool(wave, opts.maxInFlight ?? 4, (batch) => deliverBatch(ctx, items, batch, outcomes, combined));
      }
    } catch (err) {
      // Surface why we stopped: the caller's abort reason, or a sibling batch's fatal error.
      if (signal?.aborted) throw signal.reason;
      throw stop.signal.aborted ? stop.signal.reason : err;
    }
    return outcomes;
  };

  return { deliver, ready: (signal) => limiter.whenFree(signal), close: () => transport.close() };
}

/** Runs `work` over `jobs` with at most `width` at once; the first failure wins. */
async function runPool<T>(jobs: readonly T[], width: number, work: (job: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    try {
      while (next < jobs.length) await work(jobs[next++] as T);
    } catch (err) {
      next = jobs.length; // stop the other workers from taking new jobs
      throw err;
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(width, jobs.length) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export type { AcaRecord };
