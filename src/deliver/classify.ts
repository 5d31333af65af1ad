/**
 * Pure verdict on one HTTP answer from `/v2/sync/aca` (classified by status and
 * body `code`, never by message text). The status numbers of error bodies are NOT documented
 * (docs/carecycle-api.md, A1), so the body `code` counts as much as the status.
 */
import { apiErrorBodySchema, readSyncAnswer, validationIssueSchema, type SyncAnswer, type ValidationIssue } from '../carecycle/schema.js';
import { scrub } from '../log/secrets.js';
import type { HttpResponse } from './transport.js';

export type Verdict =
  /** Any 2xx JSON object: CareCycle applied the request, whatever the exact shape says. */
  | { kind: 'ok'; body: SyncAnswer }
  /** Wait `retryAfterMs` (undefined: the server gave no hint) and send again. */
  | { kind: 'rate-limited'; retryAfterMs: number | undefined }
  /** 5xx, timeouts, resets, garbage: back off and send again. */
  | { kind: 'retry'; reason: string }
  /** 401: the key is refused; 403 with CareCycle's error body: the key lacks permission. */
  | { kind: 'auth'; status: number; code: string; message: string; refusal: 'unauthorized' | 'forbidden' }
  /** The whole request was refused for its content: split it to find the bad records. */
  | { kind: 'invalid'; status: number; message: string; issues: ValidationIssue[] }
  /**
   * Wrong endpoint, a redirect, or a 4xx that is not CareCycle's validation answer (an HTML page
   * from a proxy or firewall): no record is at fault, so nothing is split or dead-lettered.
   */
  | { kind: 'fatal'; status: number; message: string };

/** `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), as ms from `now`. */
export function parseRetryAfterHeader(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Body `retryAfter` (seconds) or the header, whichever is given; if both are, the longer one,
 * since waiting too little earns another 429.
 */
export function retryAfterMsOf(json: unknown, headers: HttpResponse['headers'], now: number): number | undefined {
  const body = (json as { retryAfter?: unknown } | undefined)?.retryAfter;
  const fromBody = typeof body === 'number' && Number.isFinite(body) && body >= 0 ? body * 1000 : undefined;
  const fromHeader = parseRetryAfterHeader(headers['retry-after'], now);
  if (fromBody === undefined) return fromHeader;
  if (fromHeader === undefined) return fromBody;
  return Math.max(fromBody, fromHeader);
}

/** Pure: a short, single-line, tag-free excerpt of a body for an error message. */
export function bodySnippet(body: string, max = 160): string {
  const flat = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = flat.length > max ? `${flat.slice(0, max)}…` : flat;
  return scrub(cut) || '(empty body)';
}

export function classifyResponse(res: HttpResponse, now: number = Date.now()): Verdict {
  const json = parseJson(res.body);
  const err = apiErrorBodySchema.safeParse(json);
  const code = err.success ? err.data.code : '';
  const message = err.success ? err.data.message : `HTTP ${res.status}`;
  if (res.status === 429 || code === 'RATE_LIMIT_EXCEEDED') {
    return { kind: 'rate-limited', retryAfterMs: retryAfterMsOf(json, res.headers, now) };
  }
  if (res.status >= 200 && res.status < 300) {
    const answer = readSyncAnswer(json);
    return answer ? { kind: 'ok', body: answer } : { kind: 'retry', reason: `HTTP ${res.status} with an unreadable body` };
  }
  if (res.status === 401 || code === 'UNAUTHORIZED') {
    return { kind: 'auth', status: res.status, code: code || 'UNAUTHORIZED', message, refusal: 'unauthorized' };
  }
  if (code === 'FORBIDDEN' || (res.status === 403 && err.success)) {
    return { kind: 'auth', status: res.status, code: code || 'FORBIDDEN', message, refusal: 'forbidden' };
  }
  if (res.status >= 500 || res.status === 408 || res.status === 409 || res.status === 425 || code === 'INTERNAL_ERROR') {
    return { kind: 'retry', reason: `HTTP ${res.status}${code ? ` ${code}` : ''}` };
  }
  if (res.status === 404 || res.status === 405 || res.status === 410 || res.status < 200 || (res.status >= 300 && res.status < 400)) {
    return { kind: 'fatal', status: res.status, message: `${message} (is carecycle.baseUrl right?)` };
  }
  if (code !== 'VALIDATION_ERROR') {
    return {
      kind: 'fatal',
      status: res.status,
      message: `not CareCycle's validation answer (a proxy or firewall in between?): ${bodySnippet(res.body)}`,
    };
  }
  const raw = (json as { errors?: unknown } | undefined)?.errors;
  const issues = Array.isArray(raw)
    ? raw.flatMap((i) => {
        const p = validationIssueSchema.safeParse(i);
        return p.success ? [p.data] : [];
      })
    : [];
  return { kind: 'invalid', status: res.status, message, issues };
}
