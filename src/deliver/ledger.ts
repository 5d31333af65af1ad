/**
 * The per-minute budget is CareCycle's, not the process's: a daemon restarted inside a minute,
 * or crash-looping, must not start from a full budget, and doctor's probe must not add a request
 * the budget has no room for. So every request is recorded in the state database as it leaves
 * (before the answer, which may never come), with its answer filled in later, and a 429's pause
 * is recorded too. A starting client seeds its limiter from what the last window holds.
 */
import type { StateDb } from '../state/db.js';
import { publishDelivery, readDelivery } from '../state/runtime.js';

export interface RequestLedger {
  /**
   * Records a request as it leaves; resolves with a handle for its answer (undefined if
   * unrecorded). The caller need not wait: the insert is on its way before the request is.
   */
  sent(records: number): Promise<number | undefined>;
  /** Records the HTTP status (0: no answer) of a request recorded by `sent`. */
  answered(id: Promise<number | undefined> | number | undefined, status: number): void;
  /** Records a 429's pause: nothing may leave before `until` (ms since epoch). */
  paused(until: number): void;
}

/** What the last window spent: how long ago each request left, and how long a 429 pause still runs. */
export interface RecordedBudget {
  sentAgoMs: number[];
  pauseLeftMs: number;
}

export function stateLedger(state: StateDb, origin: 'run' | 'doctor' = 'run'): RequestLedger {
  return {
    async sent(records) {
      try {
        const r = await state.pool.query<{ id: string }>(
          `WITH trimmed AS (DELETE FROM requests WHERE at < now() - interval '1 hour')
           INSERT INTO requests (status, records, origin) VALUES (NULL, $1, $2) RETURNING id::text AS id`,
          [records, origin],
        );
        return Number(r.rows[0]!.id);
      } catch {
        // The state database is down: the request still goes (it cannot settle either way).
        return undefined;
      }
    },
    answered(handle, status) {
      void Promise.resolve(handle)
        .then((id) => (id === undefined ? undefined : state.pool.query('UPDATE requests SET status = $2 WHERE id = $1', [id, status])))
        .catch(() => undefined);
    },
    paused(until) {
      void publishDelivery(state, { rateLimitedUntil: new Date(until).toISOString() }).catch(() => undefined);
    },
  };
}

/** Reads the requests recorded in the last `windowMs` (by the database's clock) and the pause in force. */
export async function recordedBudget(state: StateDb, windowMs: number, now = Date.now()): Promise<RecordedBudget> {
  const r = await state.pool.query<{ ago: number }>(
    `SELECT (extract(epoch FROM now() - at) * 1000)::float8 AS ago FROM requests
      WHERE at > now() - make_interval(secs => $1::float8 / 1000) ORDER BY at`,
    [windowMs],
  );
  const d = await readDelivery(state);
  const until = d.value.rateLimitedUntil ? Date.parse(d.value.rateLimitedUntil) : NaN;
  return { sentAgoMs: r.rows.map((row) => Math.max(0, row.ago)), pauseLeftMs: Number.isNaN(until) ? 0 : Math.max(0, until - now) };
}
