/**
 * The per-minute budget is CareCycle's, not the process's: a daemon restarted inside a minute,
 * or crash-looping, must not start from a full budget, and doctor's probe must not add a request
 * the budget has no room for. So every request is recorded in the state database as it leaves
 * (before the answer, which may never come), with its answer filled in later, and a 429's pause
 * is recorded too. A starting client seeds its limiter from what the last window holds.
 */
import type { StateDb } from '../state/db.js';
import { publishDelivery, readDelivery } from '../state/runtime.js';

/** A recorded request: its row (undefined if unrecorded), and what other commands spent. */
export interface SentRecord {
  id: number | undefined;
  /** Requests of the last window recorded by other commands (doctor's probe), by row id. */
  others: Array<{ id: number; agoMs: number }>;
}

export interface RequestLedger {
  /**
   * Records a request as it leaves. The caller need not wait: the insert is on its way before
   * the request is.
   */
  sent(records: number): Promise<SentRecord>;
  /** Records the HTTP status (0: no answer) of a request recorded by `sent`. */
  answered(sent: Promise<SentRecord> | undefined, status: number): void;
  /** Records a 429's pause: nothing may leave before `until` (ms since epoch). */
  paused(until: number): void;
}

/** What the last window spent: how long ago each request left, and how long a 429 pause still runs. */
export interface RecordedBudget {
  sentAgoMs: number[];
  pauseLeftMs: number;
  /** Row ids among them recorded by other commands (counted once, not again when `sent` reports them). */
  otherIds?: number[];
}

/**
 * One statement per request: trims rows older than an hour, records this one, and returns the
 * last minute's requests of other commands (a doctor probe), which the limiter then counts.
 */
const SENT_SQL = `
WITH trimmed AS (DELETE FROM requests WHERE at < now() - interval '1 hour'),
ins AS (INSERT INTO requests (status, records, origin) VALUES (NULL, $1, $2) RETURNING id)
SELECT (SELECT id FROM ins)::text AS id,
       coalesce((SELECT json_agg(json_build_array(r.id::text, extract(epoch FROM now() - r.at) * 1000))
                   FROM requests r WHERE r.origin <> $2 AND r.at > now() - interval '61 seconds'), '[]'::json) AS others`;

export function stateLedger(state: StateDb, origin: 'run' | 'doctor' = 'run'): RequestLedger {
  return {
    async sent(records) {
      try {
        const r = await state.pool.query<{ id: string; others: Array<[string, number]> }>(SENT_SQL, [records, origin]);
        const row = r.rows[0]!;
        return { id: Number(row.id), others: row.others.map(([id, agoMs]) => ({ id: Number(id), agoMs: Math.max(0, agoMs) })) };
      } catch {
        // The state database is down: the request still goes (it cannot settle either way).
        return { id: undefined, others: [] };
      }
    },
    answered(sent, status) {
      void sent
        // The answer's time bounds when the request reached CareCycle from above; the time it left
        // bounds it from below, by the network's latency. A window counted from the later one
        // never ends early, so a restart never under-counts.
        ?.then((s) =>
          s.id === undefined
            ? undefined
            : state.pool.query('UPDATE requests SET status = $2, at = greatest(at, now()) WHERE id = $1', [s.id, status]),
        )
        .catch(() => undefined);
    },
    paused(until) {
      void publishDelivery(state, { rateLimitedUntil: new Date(until).toISOString() }).catch(() => undefined);
    },
  };
}

/** Reads the requests recorded in the last `windowMs` (by the database's clock) and the pause in force. */
export async function recordedBudget(state: StateDb, windowMs: number, now = Date.now(), origin = 'run'): Promise<RecordedBudget> {
  const query = (other: string) =>
    state.pool.query<{ ago: number; id: string; other: boolean }>(
      `SELECT (extract(epoch FROM now() - at) * 1000)::float8 AS ago, id::text AS id, ${other} AS other FROM requests
      WHERE at > now() - make_interval(secs => $1::float8 / 1000) ORDER BY at`,
      [windowMs, origin],
    );
  // A state schema from before requests had an origin (setup not run yet): every row is ours.
  const r = await query('origin <> $2').catch((err: { code?: string }) => {
    if (err.code === '42703') return query('$2::text IS NULL');
    throw err;
  });
  const d = await readDelivery(state);
  const until = d.value.rateLimitedUntil ? Date.parse(d.value.rateLimitedUntil) : NaN;
  return {
    sentAgoMs: r.rows.map((row) => Math.max(0, row.ago)),
    pauseLeftMs: Number.isNaN(until) ? 0 : Math.max(0, until - now),
    otherIds: r.rows.filter((row) => row.other).map((row) => Number(row.id)),
  };
}
