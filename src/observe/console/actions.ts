import { createHash, timingSafeEqual } from 'node:crypto';
import type { Selection } from '../../deliver/dead-letters.js';

/**
 * Pure decisions of the status page's actions: is this request allowed, and what does its
 * body ask for. Kept apart from the HTTP plumbing so each answer is unit-tested.
 */

export type Authorization = 'ok' | 'disabled' | 'missing' | 'wrong';

/**
 * `Authorization: Bearer <token>` against the configured admin token. No token configured:
 * every action is refused (403), whatever is sent. Compared in constant time over digests, so
 * neither the content nor the length of the token leaks through timing.
 */
export function authorize(header: string | undefined, token: string | undefined): Authorization {
  if (!token) return 'disabled';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return 'missing';
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!), digest(token)) ? 'ok' : 'wrong';
}

/** HTTP status and message for a refused authorization. */
export function refusal(a: Exclude<Authorization, 'ok'>): { status: 401 | 403; error: string } {
  if (a === 'disabled')
    return { status: 403, error: 'actions are disabled: no admin token is configured (server.adminToken or CARECYCLE_SYNC_ADMIN_TOKEN)' };
  if (a === 'missing') return { status: 401, error: 'missing admin token: send Authorization: Bearer <token>' };
  return { status: 401, error: 'wrong admin token' };
}

/** At most this many keys in one request. */
export const MAX_KEYS = 10_000;

/** `{"keys": ["k", …]}` or `{"all": true}`, else a message saying what is wrong. */
export function parseSelection(text: string): Selection | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: 'body: expected JSON, {"keys": [...]} or {"all": true}' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { error: 'body: expected an object, {"keys": [...]} or {"all": true}' };
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'keys' && k !== 'all');
  if (extra.length > 0) return { error: `body: unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')}; expected "keys" or "all"` };
  if ('all' in b && 'keys' in b) return { error: 'body: give "keys" or "all", not both' };
  if ('all' in b) return b.all === true ? { all: true } : { error: 'body.all: expected true' };
  if (!Array.isArray(b.keys) || b.keys.length === 0) return { error: 'body.keys: expected a non-empty array of customer keys' };
  if (b.keys.length > MAX_KEYS) return { error: `body.keys: at most ${MAX_KEYS} keys per request, found ${b.keys.length}` };
  // Keys are text in the state tables; integer keys given as JSON numbers are taken as their text.
  const keys = b.keys.map((k) => (typeof k === 'number' && Number.isSafeInteger(k) ? String(k) : k));
  const bad = keys.findIndex((k) => typeof k !== 'string' || k.length === 0);
  if (bad >= 0) return { error: `body.keys[${bad}]: expected a customer key (a non-empty string)` };
  return { keys: keys as string[] };
}
