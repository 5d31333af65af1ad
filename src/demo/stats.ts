/**
 * One snapshot of everything the demo's view shows, gathered once a second from the daemon's
 * services (in memory), the stand-in (what CareCycle holds) and the state and source databases
 * (queue, dead letters, slot lag: one round trip each, the queries of the metrics collector).
 */
import type pg from 'pg';
import { quoteIdent as quote } from '../pg/names.js';
import type { Daemon } from '../daemon/daemon.js';
import type { StandIn } from '../carecycle/stand-in/index.js';
import { stateMetricsSql } from '../observe/metrics-collector.js';
import { readSlotFacts } from '../pg/slot.js';
import type { GeneratorStats } from './generator.js';

export interface DeadLetterLine {
  key: string;
  reason: string;
}

export interface DemoSnapshot {
  elapsedMs: number;
  captureConnected: boolean;
  delivered: number;
  skipped: number;
  deadLettered: number;
  /** Rows in dead_letters now (a customer dead-lettered twice is one row). */
  deadLetterRows: number;
  latestDeadLetters: DeadLetterLine[];
  queueLive: number;
  queueBackfill: number;
  backfillEnqueued: number;
  backfillTotal: number | null;
  /** Bytes of WAL between the server's position and the slot's confirmed position; null before the slot exists. */
  slotLagBytes: number | null;
  requestsLastMinute: number;
  rpmLimit: number;
  requestsTotal: number;
  standInCustomers: number;
  standInPolicies: number;
  changes: GeneratorStats;
  /** The latest warnings and errors of the daemon (newest last). */
  warnings: string[];
  /** The final snapshot, taken after the daemon stopped. */
  stopped?: boolean;
}

export interface StatsSources {
  daemon: Daemon;
  standIn: StandIn;
  /** A small pool on the demo's database (state schema and slot live there). */
  db: pg.Pool;
  schema: string;
  slot: string;
  rpm: number;
  changes: GeneratorStats;
  warnings: () => string[];
  startedAt: number;
}

export function createStatsReader(src: StatsSources): () => Promise<DemoSnapshot> {
  const queueSql = stateMetricsSql(src.schema);
  const deadSql = `SELECT customer_key, reason FROM ${quote(src.schema)}.dead_letters ORDER BY last_failed_at DESC LIMIT 3`;
  // Kept between reads: a query that fails (the server is busy, or stopping) shows the last values.
  const db = {
    queueLive: 0,
    queueBackfill: 0,
    deadLetterRows: 0,
    backfillEnqueued: 0,
    backfillTotal: null as number | null,
    slotLagBytes: null as number | null,
    latestDeadLetters: [] as DeadLetterLine[],
  };

  async function readDb(): Promise<void> {
    const [q, s, d] = await Promise.all([
      src.db.query<{ live: string; backfill: string; dead_letters: string; bf_enqueued: string | null; bf_total: string | null }>(queueSql),
      readSlotFacts(src.db, src.slot),
      src.db.query<{ customer_key: string; reason: string }>(deadSql),
    ]);
    const row = q.rows[0];
    if (row) {
      Object.assign(db, {
        queueLive: Number(row.live),
        queueBackfill: Number(row.backfill),
        deadLetterRows: Number(row.dead_letters),
        backfillEnqueued: Number(row.bf_enqueued ?? 0),
        backfillTotal: row.bf_total == null ? null : Number(row.bf_total),
      });
    }
    db.slotLagBytes = s?.lagBytes ?? null;
    db.latestDeadLetters = d.rows.map((r) => ({ key: r.customer_key, reason: r.reason }));
  }

  return async () => {
    // Before setup the state tables do not exist yet: nothing to show, not an error.
    await readDb().catch(() => undefined);
    const now = Date.now();
    const d = src.daemon.delivery.status();
    return {
      ...db,
      elapsedMs: now - src.startedAt,
      captureConnected: src.daemon.capture.status().connected,
      delivered: d.delivered,
      skipped: d.skipped,
      deadLettered: d.deadLettered,
      requestsLastMinute: src.standIn.requests.filter((r) => r.at > now - 60_000).length,
      rpmLimit: src.rpm,
      requestsTotal: src.standIn.requests.length,
      standInCustomers: src.standIn.store.customers.size,
      standInPolicies: src.standIn.store.policyCount(),
      changes: { ...src.changes, byKind: { ...src.changes.byKind } },
      warnings: src.warnings(),
    };
  };
}
