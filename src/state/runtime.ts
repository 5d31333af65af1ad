import { sql } from 'kysely';
import { scrub } from '../log/secrets.js';
import type { StateDb } from './db.js';
import type { Problem } from '../errors.js';

/**
 * What the running daemon publishes for `status`, readiness and other processes: one JSON
 * document per name in the `runtime` table, plus one row per API request in `requests`.
 * Writers patch (merge) their document, so the capture loop can bump `lastHeartbeatAt` without
 * clobbering `lastError`. Timestamps are ISO strings (JSON has no dates). Error texts are
 * scrubbed before they are stored, so a secret can't reach `status` through the table.
 */

export interface CaptureRuntime {
  /** The replication stream is connected and consuming the slot. */
  connected: boolean;
  /** This instance waits for the slot lock held by another instance. */
  standby: boolean;
  lastHeartbeatAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** A Postgres error only a person can fix (src/pg/sqlstate.ts); null once it works again. */
  problem?: Problem | null;
}

export interface DeliveryRuntime {
  /** CareCycle answered 401/403: delivery stopped, queueing continues. */
  keyRejected: boolean;
  keyRejectedAt: string | null;
  /** Which refusal: 401 (the key is wrong or revoked) or 403 (the key lacks the permission). */
  keyRefusal?: 'unauthorized' | 'forbidden' | null;
  lastError: string | null;
  lastErrorAt: string | null;
  lastRequestAt: string | null;
  /** Set while honouring a 429's retryAfter. */
  rateLimitedUntil: string | null;
  /** A Postgres error only a person can fix (src/pg/sqlstate.ts); null once it works again. */
  problem?: Problem | null;
}

export const CAPTURE_DEFAULTS: CaptureRuntime = {
  connected: false,
  standby: false,
  lastHeartbeatAt: null,
  lastError: null,
  lastErrorAt: null,
};

export const DELIVERY_DEFAULTS: DeliveryRuntime = {
  keyRejected: false,
  keyRejectedAt: null,
  lastError: null,
  lastErrorAt: null,
  lastRequestAt: null,
  rateLimitedUntil: null,
};

/** A runtime document and when it was last written (by the database clock). */
export interface RuntimeEntry<T> {
  value: T;
  updatedAt: Date | null;
}

function scrubValue(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(scrubValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v)]));
  }
  return value;
}

/** Replaces the document `name`. */
export async function setRuntime(state: StateDb, name: string, value: unknown): Promise<void> {
  const json = JSON.stringify(scrubValue(value));
  await state.db
    .insertInto('runtime')
    .values({ name, value: json })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value: json, updated_at: sql`now()` }))
    .execute();
}

/** Merges `patch` into the document `name` (top-level keys; creates it when missing). */
export async function patchRuntime(state: StateDb, name: string, patch: Record<string, unknown>): Promise<void> {
  await state.pool.query(
    `INSERT INTO runtime (name, value) VALUES ($1, $2::jsonb)
     ON CONFLICT (name) DO UPDATE SET value = runtime.value || EXCLUDED.value, updated_at = now()`,
    [name, JSON.stringify(scrubValue(patch))],
  );
}

export async function getRuntime<T = unknown>(state: StateDb, name: string): Promise<RuntimeEntry<T> | undefined> {
  const row = await state.db.selectFrom('runtime').select(['value', 'updated_at']).where('name', '=', name).executeTakeFirst();
  return row ? { value: row.value as T, updatedAt: row.updated_at } : undefined;
}

export const publishCapture = (state: StateDb, patch: Partial<CaptureRuntime>) => patchRuntime(state, 'capture', patch);
export const publishDelivery = (state: StateDb, patch: Partial<DeliveryRuntime>) => patchRuntime(state, 'delivery', patch);

/** The initial backfill's failures while the daemon retries it (lastError null once it worked). */
export interface BackfillRetryRuntime {
  lastError: string | null;
  lastErrorAt?: string;
  attempts: number;
  nextRetryAt: string | null;
  /** A Postgres error only a person can fix (src/pg/sqlstate.ts); null once it works again. */
  problem?: Problem | null;
}
/**
 * The runtime document that asks the daemon to backfill every customer: written by `setup` when
 * it creates a new slot and by capture when it recreates a lost one, read and marked started by
 * backfill/ (src/backfill/initial.ts).
 */
export const INITIAL_BACKFILL_DOC = 'initial_backfill';
export const BACKFILL_RETRY_DOC = 'initial_backfill_retry';
export const publishBackfillRetry = (state: StateDb, patch: BackfillRetryRuntime) => patchRuntime(state, BACKFILL_RETRY_DOC, { ...patch });

/** The capture document with defaults for whatever was never published. */
export async function readCapture(state: StateDb): Promise<RuntimeEntry<CaptureRuntime>> {
  const e = await getRuntime<Partial<CaptureRuntime>>(state, 'capture');
  return { value: { ...CAPTURE_DEFAULTS, ...(e?.value ?? {}) }, updatedAt: e?.updatedAt ?? null };
}

export async function readDelivery(state: StateDb): Promise<RuntimeEntry<DeliveryRuntime>> {
  const e = await getRuntime<Partial<DeliveryRuntime>>(state, 'delivery');
  return { value: { ...DELIVERY_DEFAULTS, ...(e?.value ?? {}) }, updatedAt: e?.updatedAt ?? null };
}

/** An error as the runtime documents store it: scrubbed text and the time it happened. */
export function errorPatch(err: unknown, at = new Date()): { lastError: string; lastErrorAt: string } {
  const msg = err instanceof Error ? err.message : String(err);
  return { lastError: scrub(msg), lastErrorAt: at.toISOString() };
}

/**
 * Records one API request (HTTP status, 0 for a network failure; records carried) and trims rows
 * older than an hour in the same statement: the index on `at` makes the trim a short range scan.
 */
export async function recordRequest(state: StateDb, status: number, records: number): Promise<void> {
  await state.pool.query(
    `WITH trimmed AS (DELETE FROM requests WHERE at < now() - interval '1 hour')
     INSERT INTO requests (status, records) VALUES ($1, $2)`,
    [status, records],
  );
}

export interface RequestWindow {
  /** Requests in the last 60 seconds. */
  requests: number;
  /** Records those requests carried. */
  records: number;
  /** Request count by HTTP status ("0" = no response). */
  byStatus: Record<string, number>;
}

export async function requestsInLastMinute(state: StateDb): Promise<RequestWindow> {
  const r = await state.pool.query<{ status: number; n: string; records: string }>(
    `SELECT coalesce(status, 0) AS status, count(*) AS n, coalesce(sum(records), 0) AS records
       FROM requests WHERE at > now() - interval '60 seconds' GROUP BY 1 ORDER BY 1`,
  );
  const byStatus: Record<string, number> = {};
  let requests = 0;
  let records = 0;
  for (const row of r.rows) {
    byStatus[String(row.status)] = Number(row.n);
    requests += Number(row.n);
    records += Number(row.records);
  }
  return { requests, records, byStatus };
}
