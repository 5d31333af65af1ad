/**
 * What capture needs about its slot besides the slot's facts and verdict (src/pg/slot.ts): the
 * server's wal_sender_timeout, which paces the standby status updates, and the budget of
 * recreations after a loss (source.onSlotLost: recreate).
 */
import type pg from 'pg';

export async function readWalSenderTimeoutMs(client: pg.ClientBase): Promise<number> {
  const t = await client.query<{ timeout_ms: number }>(
    `SELECT setting::int AS timeout_ms FROM pg_settings WHERE name = 'wal_sender_timeout'`,
  );
  return t.rows[0]?.timeout_ms ?? 60_000;
}

export const MAX_RECREATIONS_PER_HOUR = 3;

/** Whether one more recreation fits in the budget, given the times of the earlier ones. */
export function mayRecreate(earlier: readonly string[], now: Date, limit = MAX_RECREATIONS_PER_HOUR): boolean {
  const hourAgo = now.getTime() - 3600_000;
  return earlier.filter((t) => Date.parse(t) > hourAgo).length < limit;
}
