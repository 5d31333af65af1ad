/**
 * Is the slot usable, and may the daemon recreate it? One query for the facts, pure verdicts
 * over them. A slot is lost when it is missing from pg_replication_slots (dropped by someone),
 * when its wal_status is `lost` (the WAL it needed was removed, e.g. past max_slot_wal_keep_size),
 * or when PostgreSQL 17+ reports an invalidation_reason.
 */
import type pg from 'pg';

export interface SlotFacts {
  exists: boolean;
  /** The slot belongs to the connected database. */
  here: boolean;
  walStatus: string | null;
  /** PostgreSQL 17+ only (pg_replication_slots.invalidation_reason); null before. */
  invalidationReason: string | null;
  confirmedFlushLsn: string | null;
  walSenderTimeoutMs: number;
}

export async function readSlotFacts(client: pg.ClientBase, slot: string): Promise<SlotFacts> {
  // to_jsonb(s) reads invalidation_reason where it exists without failing on older majors.
  const r = await client.query<{ confirmed: string | null; wal_status: string | null; here: boolean; reason: string | null }>(
    `SELECT s.confirmed_flush_lsn::text AS confirmed, s.wal_status, s.database = current_database() AS here,
            to_jsonb(s) ->> 'invalidation_reason' AS reason
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [slot],
  );
  const t = await client.query<{ timeout_ms: number }>(
    `SELECT setting::int AS timeout_ms FROM pg_settings WHERE name = 'wal_sender_timeout'`,
  );
  const row = r.rows[0];
  return {
    exists: row !== undefined,
    here: row?.here ?? false,
    walStatus: row?.wal_status ?? null,
    invalidationReason: row?.reason ?? null,
    confirmedFlushLsn: row?.confirmed ?? null,
    walSenderTimeoutMs: t.rows[0]?.timeout_ms ?? 60_000,
  };
}

/** Why the slot cannot be streamed from, or null when it can. */
export function slotLoss(f: SlotFacts): string | null {
  if (!f.exists) return 'the slot does not exist (dropped, or never created)';
  if (!f.here) return null; // another database's slot of that name: a config problem, not a loss
  if (f.invalidationReason) return `the slot was invalidated (${f.invalidationReason})`;
  if (f.walStatus === 'lost') return 'the slot is lost: the WAL it needed was removed (max_slot_wal_keep_size?)';
  return null;
}

export const MAX_RECREATIONS_PER_HOUR = 3;

/** Whether one more recreation fits in the budget, given the times of the earlier ones. */
export function mayRecreate(earlier: readonly string[], now: Date, limit = MAX_RECREATIONS_PER_HOUR): boolean {
  const hourAgo = now.getTime() - 3600_000;
  return earlier.filter((t) => Date.parse(t) > hourAgo).length < limit;
}
