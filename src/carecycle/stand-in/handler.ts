/**
 * The stand-in's decisions for one request, apart from the HTTP plumbing: authentication,
 * body validation (the whole request is rejected if any part is invalid, the likely
 * reading of docs/carecycle-api.md, A3), duplicate externalIds, and applying the records to the store.
 */
import {
  quickSyncRequest,
  syncRequestSchema,
  type AcaRecord,
  type SyncResponse,
  type SyncErrorItem,
  type SyncResult,
  type ValidationIssue,
} from '../schema.js';
import type { StandInStore } from './store.js';

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function errorReply(status: number, code: string, message: string, extra: Record<string, unknown> = {}): Reply {
  return { status, body: { message, code, ...extra } };
}

/** 401 unless the header is a `cc_` key equal to the configured one (docs/carecycle-api.md). */
export function authorize(header: string | string[] | undefined, apiKey: string): Reply | undefined {
  const given = Array.isArray(header) ? header[0] : header;
  if (!given) return errorReply(401, 'UNAUTHORIZED', 'API key missing');
  if (!given.startsWith('cc_') || given !== apiKey) return errorReply(401, 'UNAUTHORIZED', 'API key invalid');
  return undefined;
}

/** The documented 429 ("Rate limit"), with the wait in the body (seconds) and/or a `Retry-After` header. */
export function rateLimitReply(retryAfterSeconds: number, via: 'body' | 'header' | 'both' | 'none' = 'both'): Reply {
  const body: Record<string, unknown> = { message: 'Rate limit exceeded', code: 'RATE_LIMIT_EXCEEDED' };
  if (via === 'body' || via === 'both') body.retryAfter = retryAfterSeconds;
  const headers = via === 'body' || via === 'none' ? undefined : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  return { status: 429, body, headers };
}

export type Parsed = { ok: true; records: AcaRecord[] } | { ok: false; reply: Reply };

/** The body's JSON, or NOT_JSON. */
export const NOT_JSON = Symbol('not JSON');
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

/** Validates a request body (parsed by parseJsonBody); any problem rejects the whole request. */
export function parseSyncBody(json: unknown, validationStatus: number): Parsed {
  if (json === NOT_JSON) {
    return { ok: false, reply: errorReply(400, 'VALIDATION_ERROR', 'Request body is not valid JSON', { errors: [] }) };
  }
  const parsed = quickSyncRequest(json) ? { success: true as const, data: json } : syncRequestSchema.safeParse(json);
  if (!parsed.success) {
    const errors: ValidationIssue[] = parsed.error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
      message: i.message,
      code: i.code,
      ...('expected' in i && typeof i.expected === 'string' ? { expected: i.expected } : {}),
    }));
    return { ok: false, reply: errorReply(validationStatus, 'VALIDATION_ERROR', 'Validation failed', { errors }) };
  }
  const dups = duplicateExternalIds(parsed.data.records);
  if (dups.length > 0) {
    return { ok: false, reply: errorReply(validationStatus, 'VALIDATION_ERROR', 'Duplicate externalId in one request', { errors: dups }) };
  }
  return { ok: true, records: parsed.data.records };
}

/**
 * Our stand-in's strict answer to docs/carecycle-api.md, A5: two records with the same externalId
 * in one request are a validation error (each later occurrence is reported), so a client that
 * batches a split customer's parts together is caught by tests instead of racing in production.
 */
export function duplicateExternalIds(records: readonly AcaRecord[]): ValidationIssue[] {
  const first = new Map<string, number>();
  const issues: ValidationIssue[] = [];
  records.forEach((r, i) => {
    if (!r.externalId) return;
    const prev = first.get(r.externalId);
    if (prev === undefined) first.set(r.externalId, i);
    else issues.push({ path: ['records', i, 'externalId'], message: `duplicate externalId (also at records[${prev}])`, code: 'custom' });
  });
  return issues;
}

/** Applies valid records in order; records named in `recordErrors` fail individually. */
export function processRecords(
  store: StandInStore,
  records: readonly AcaRecord[],
  recordErrors: ReadonlyMap<string, string>,
  now: number,
): SyncResponse & { results: SyncResult[] } {
  const errors: SyncErrorItem[] = [];
  const results: SyncResult[] = [];
  for (const r of records) {
    const injected = r.externalId ? recordErrors.get(r.externalId) : undefined;
    if (injected !== undefined) {
      errors.push({
        id: r.externalId ? (store.byExternalId(r.externalId)?.id ?? null) : null,
        externalId: r.externalId ?? null,
        error: injected,
      });
      continue;
    }
    const { customer, changedPolicies } = store.apply(r, now);
    results.push({
      ...customer.fields,
      id: customer.id,
      externalId: (customer.fields.externalId as string | undefined) ?? null,
      policies: changedPolicies,
    });
  }
  return { succeeded: results.length, failed: errors.length, errors, results };
}
