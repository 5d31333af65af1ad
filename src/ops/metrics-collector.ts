import type pg from 'pg';
import { depthMetricsColumns } from '../queue/depth.js';
import type { Collector, Metrics } from './metrics.js';

/**
 * The scrape-time collector the `run` command installs with `metrics.setCollector(...)`: it
 * refreshes the gauges that describe stored state from the state DB (queue, dead letters,
 * backfill) and from the source DB (the slot). Two small queries per scrape; Prometheus scrapes
 * every 15–60 s, so this costs nothing next to the pipeline's own traffic.
 */

export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface StateCollectorOptions {
  /** The state database (a pool: a scrape must not wait behind the pipeline's client). */
  state: Queryable;
  schema: string;
  /** The source database, for the slot; omit to leave the slot gauges alone. */
  source?: Queryable;
  slot?: string;
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

interface QueueRow {
  live: string;
  backfill: string;
  oldest_age: number | null;
  dead_letters: string;
  bf_enqueued: string | null;
  bf_total: string | null;
}

interface SlotRow {
  lag: string | null;
  retained: string | null;
}

/** The SQL of the state part, one round trip (exported for the test and for `status`-like tools). */
export function stateMetricsSql(schema: string): string {
  const s = quoteIdent(schema);
  return `SELECT
      ${depthMetricsColumns(s)},
      (SELECT count(*) FROM ${s}.dead_letters) AS dead_letters,
      b.enqueued AS bf_enqueued, b.total AS bf_total
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT enqueued, total FROM ${s}.backfill ORDER BY run_id DESC LIMIT 1) b ON true`;
}

/**
 * Lag and retained WAL of one slot; NULLs (no gauge change) when the slot does not exist.
 * The lag is clamped at 0: pg_current_wal_lsn() is the WAL *written*, and an idle slot can be
 * confirmed a little past it (seen as -1 byte on PG 18); "nothing left to capture" is 0.
 */
export const SLOT_METRICS_SQL = `SELECT GREATEST(0, pg_current_wal_lsn() - confirmed_flush_lsn)::int8 AS lag,
       (pg_current_wal_lsn() - restart_lsn)::int8 AS retained
  FROM pg_replication_slots WHERE slot_name = $1`;

export function stateCollector(opts: StateCollectorOptions): Collector {
  const sql = stateMetricsSql(opts.schema);
  return async (m: Metrics) => {
    const [queue, slot] = await Promise.all([
      opts.state.query<QueueRow>(sql),
      opts.source && opts.slot ? opts.source.query<SlotRow>(SLOT_METRICS_SQL, [opts.slot]) : Promise.resolve(undefined),
    ]);
    const q = queue.rows[0];
    if (q) applyQueueRow(m, q);
    const s = slot?.rows[0];
    if (s?.lag != null) m.slotLagBytes.set(Number(s.lag));
    if (s?.retained != null) m.slotRetainedWalBytes.set(Number(s.retained));
  };
}

function applyQueueRow(m: Metrics, q: QueueRow): void {
  m.queueDepth.set({ priority: 'live' }, Number(q.live));
  m.queueDepth.set({ priority: 'backfill' }, Number(q.backfill));
  m.oldestPendingAgeSeconds.set(Math.max(0, q.oldest_age ?? 0));
  m.deadLetters.set(Number(q.dead_letters));
  m.backfillEnqueued.set(Number(q.bf_enqueued ?? 0));
  m.backfillTotal.set(Number(q.bf_total ?? 0));
}
