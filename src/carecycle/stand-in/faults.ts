/**
 * Faults the stand-in injects on demand, settable at runtime (tests flip them between requests).
 * Counters ("next N requests") are consumed one per request; rates draw from `random`.
 */
import type { AnswerShape, ErrorItemForm } from './answer-shapes.js';

export interface FaultSettings {
  /** The next N requests get 429 RATE_LIMIT_EXCEEDED (without counting against the limit). */
  rateLimitBurst: number;
  /** `retryAfter` (seconds) in injected 429s; may be fractional so tests run fast. */
  retryAfterSeconds: number;
  /** Where injected 429s carry the wait: body `retryAfter`, `Retry-After` header, both, or nowhere. */
  retryAfterVia: 'body' | 'header' | 'both' | 'none';
  /** The next N requests get 500 INTERNAL_ERROR. */
  serverErrors: number;
  /** Probability (0–1) that a request gets 503 INTERNAL_ERROR. */
  serverErrorRate: number;
  /** Delay before answering, in ms. */
  latencyMs: number;
  /** The next N requests have their socket destroyed. */
  dropConnections: number;
  /** Drop only after the records were stored (the response is lost, the work is not). */
  dropAfterProcessing: boolean;
  /** The next N requests get a 200 whose body is not JSON. */
  garbageResponses: number;
  /** Per-record errors: externalId → error message (a 200 with errors[] for these records). */
  recordErrors: Map<string, string>;
  /** Every request that carries one of these externalIds gets 500 INTERNAL_ERROR (a poison record). */
  poisonExternalIds: Set<string>;
  /** The next N requests get an HTML 400 page, as a proxy or firewall in front of the API sends. */
  proxyHtml: number;
  /** HTTP status of those pages (400 or 403). */
  proxyStatus: number;
  /** How successful answers are phrased (see answer-shapes.ts). */
  answerShape: AnswerShape;
  errorItems: ErrorItemForm;
  countsDisagree: boolean;
}

export type FaultVerdict =
  | { kind: 'none' }
  | { kind: 'rate-limit' }
  | { kind: 'server-error'; status: number }
  | { kind: 'drop' }
  | { kind: 'garbage' }
  | { kind: 'proxy-html'; status: number };

export class Faults implements FaultSettings {
  rateLimitBurst = 0;
  retryAfterSeconds = 1;
  retryAfterVia: FaultSettings['retryAfterVia'] = 'both';
  serverErrors = 0;
  serverErrorRate = 0;
  latencyMs = 0;
  dropConnections = 0;
  dropAfterProcessing = false;
  garbageResponses = 0;
  recordErrors = new Map<string, string>();
  poisonExternalIds = new Set<string>();
  proxyHtml = 0;
  proxyStatus = 400;
  answerShape: AnswerShape = 'current';
  errorItems: ErrorItemForm = 'full';
  countsDisagree = false;

  constructor(private readonly random: () => number = Math.random) {}

  set(partial: Partial<FaultSettings>): this {
    Object.assign(this, partial);
    return this;
  }

  /** Makes records with this externalId fail with a per-record error until cleared. */
  rejectRecord(externalId: string, message = 'Record rejected by stand-in'): this {
    this.recordErrors.set(externalId, message);
    return this;
  }

  reset(): this {
    return this.set({
      rateLimitBurst: 0,
      serverErrors: 0,
      serverErrorRate: 0,
      latencyMs: 0,
      dropConnections: 0,
      dropAfterProcessing: false,
      garbageResponses: 0,
      recordErrors: new Map(),
      poisonExternalIds: new Set(),
      proxyHtml: 0,
      proxyStatus: 400,
      answerShape: 'current',
      errorItems: 'full',
      countsDisagree: false,
    });
  }

  /** Decides (and consumes) the request-level fault for one request. */
  next(): FaultVerdict {
    if (this.rateLimitBurst > 0) {
      this.rateLimitBurst--;
      return { kind: 'rate-limit' };
    }
    if (this.proxyHtml > 0) {
      this.proxyHtml--;
      return { kind: 'proxy-html', status: this.proxyStatus };
    }
    if (this.dropConnections > 0) {
      this.dropConnections--;
      return { kind: 'drop' };
    }
    if (this.serverErrors > 0) {
      this.serverErrors--;
      return { kind: 'server-error', status: 500 };
    }
    if (this.serverErrorRate > 0 && this.random() < this.serverErrorRate) return { kind: 'server-error', status: 503 };
    if (this.garbageResponses > 0) {
      this.garbageResponses--;
      return { kind: 'garbage' };
    }
    return { kind: 'none' };
  }
}
