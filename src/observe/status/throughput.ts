import type { StateDb } from '../../state/db.js';

/**
 * Records per minute over the last hour, for the status page's sparkline: from the `requests`
 * table (one row per API request, kept for an hour), counting the records of requests that
 * CareCycle accepted (HTTP 200). Oldest minute first; the last entry is the current minute.
 */
export const THROUGHPUT_MINUTES = 60;

export async function deliveredPerMinute(state: StateDb): Promise<number[]> {
  const r = await state.pool.query<{ ago: number; n: string }>(
    `SELECT floor(extract(epoch FROM now() - at) / 60)::int AS ago, coalesce(sum(records), 0) AS n
       FROM requests WHERE status = 200 AND at > now() - make_interval(mins => $1) GROUP BY 1`,
    [THROUGHPUT_MINUTES],
  );
  return perMinute(r.rows.map((x) => ({ minutesAgo: Number(x.ago), records: Number(x.n) })));
}

/** Pure: minute buckets ("n minutes ago") as a series, oldest first, missing minutes as 0. */
export function perMinute(buckets: { minutesAgo: number; records: number }[], minutes = THROUGHPUT_MINUTES): number[] {
  const out = new Array<number>(minutes).fill(0);
  for (const b of buckets) {
    if (b.minutesAgo >= 0 && b.minutesAgo < minutes) out[minutes - 1 - b.minutesAgo]! += b.records;
  }
  return out;
}
