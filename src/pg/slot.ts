/**
 * The replication slot: one query for what pg_replication_slots says about it, and pure verdicts
 * over those facts, for setup, capture, doctor, status, /metrics and teardown. A slot is lost
 * when its wal_status is `lost` (the WAL it needed was removed, e.g. past
 * max_slot_wal_keep_size) or when PostgreSQL 17+ reports an invalidation_reason; a missing slot
 * (dropped by someone, or never created) is told apart, and so is a slot of that name that is not
 * ours to stream from (docs/replication.md, "Slots and snapshots").
 */
import type pg from 'pg';

/** A client or a pool: anything with pg's query(text, values). */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface SlotFacts {
  slotType: string;
  plugin: string | null;
  database: string | null;
  /** The slot belongs to the connected database. */
  here: boolean;
  active: boolean;
  activePid: number | null;
  /** application_name of the backend holding the slot, when visible. */
  activeApplication: string | null;
  walStatus: string | null;
  /** PostgreSQL 17+ only (pg_replication_slots.invalidation_reason); null before. */
  invalidationReason: string | null;
  confirmedFlushLsn: string | null;
  restartLsn: string | null;
  /** WAL between the server's position and confirmed_flush_lsn, at least 0; null on a standby. */
  lagBytes: number | null;
  /** WAL the slot holds back (from restart_lsn); null on a standby. */
  retainedBytes: number | null;
  /** WAL that may still be written before the slot is invalidated; null without max_slot_wal_keep_size. */
  safeWalSizeBytes: number | null;
}

interface SlotRow {
  s: Record<string, unknown>;
  here: boolean;
  confirmed: string | null;
  restart: string | null;
  lag: string | null;
  retained: string | null;
  app: string | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The slot's facts, or null when no slot of that name exists. */
export async function readSlotFacts(client: Queryable, slot: string): Promise<SlotFacts | null> {
  // to_jsonb(s) reads columns that only some majors have (invalidation_reason: PG 17+). The lag is
  // clamped at 0: an idle slot can be confirmed a byte past pg_current_wal_lsn() (the WAL written).
  const { rows } = await client.query<SlotRow>(
    `SELECT to_jsonb(s) AS s, s.database = current_database() AS here,
            s.confirmed_flush_lsn::text AS confirmed, s.restart_lsn::text AS restart,
            CASE WHEN pg_is_in_recovery() OR s.confirmed_flush_lsn IS NULL THEN NULL
                 ELSE GREATEST(0, pg_current_wal_lsn() - s.confirmed_flush_lsn)::int8 END AS lag,
            CASE WHEN pg_is_in_recovery() OR s.restart_lsn IS NULL THEN NULL
                 ELSE (pg_current_wal_lsn() - s.restart_lsn)::int8 END AS retained,
            (SELECT application_name FROM pg_stat_activity a WHERE a.pid = s.active_pid) AS app
       FROM pg_replication_slots s WHERE s.slot_name = $1`,
    [slot],
  );
  const r = rows[0];
  if (!r) return null;
  const s = r.s;
  return {
    slotType: String(s.slot_type),
    plugin: (s.plugin as string | null) ?? null,
    database: (s.database as string | null) ?? null,
    here: r.here === true,
    active: s.active === true,
    activePid: (s.active_pid as number | null) ?? null,
    activeApplication: r.app,
    walStatus: (s.wal_status as string | null) ?? null,
    invalidationReason: (s.invalidation_reason as string | null) ?? null,
    confirmedFlushLsn: r.confirmed,
    restartLsn: r.restart,
    lagBytes: num(r.lag),
    retainedBytes: num(r.retained),
    safeWalSizeBytes: num(s.safe_wal_size),
  };
}

export type SlotHealth =
  | { state: 'usable' }
  /** Dropped by someone, or never created. */
  | { state: 'missing'; reason: string }
  /** A slot of that name that is not a pgoutput logical slot of this database. */
  | { state: 'foreign'; reason: string }
  /** Its changes since some point are gone from the stream. */
  | { state: 'lost'; reason: string };

/** What a person runs about a lost slot: a new slot, and the first run reconciles every customer. */
export const RESET_SLOT = 'carecycle-sync teardown --yes && carecycle-sync setup   -- the next run backfills every customer';

export function slotHealth(f: SlotFacts | null): SlotHealth {
  if (!f) return { state: 'missing', reason: 'the slot does not exist (dropped, or never created)' };
  if (f.slotType !== 'logical' || f.plugin !== 'pgoutput' || !f.here) {
    return {
      state: 'foreign',
      reason: `not a pgoutput logical slot of this database (type ${f.slotType}, plugin ${f.plugin}, database ${f.database})`,
    };
  }
  if (f.invalidationReason || f.walStatus === 'lost') {
    const reason = f.invalidationReason
      ? `invalidated: ${f.invalidationReason}`
      : 'wal_status lost: its WAL was removed, past max_slot_wal_keep_size';
    return { state: 'lost', reason };
  }
  return { state: 'usable' };
}

/** What a person runs about a slot of that name that is not ours. */
export const foreignSlotFix = (slot: string): string =>
  `choose another source.slot in the config, or drop it: SELECT pg_drop_replication_slot('${slot}');`;

/** The one sentence for a lost slot, wherever it is reported (doctor prefixes the slot's name itself). */
export const lostSlotDetail = (reason: string): string => `is lost (${reason}): changes made since are gone from the stream`;

/** `replication slot "s" is lost (…): …`, or `replication slot "s": <reason>` for the other states. */
export function slotProblem(slot: string, health: Exclude<SlotHealth, { state: 'usable' }>): string {
  return health.state === 'lost'
    ? `replication slot "${slot}" ${lostSlotDetail(health.reason)}`
    : `replication slot "${slot}": ${health.reason}`;
}
