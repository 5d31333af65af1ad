import { quoteIdent } from '../pg/names.js';
import { readSlotFacts, type Queryable } from '../pg/slot.js';
import { depthMetricsColumns } from '../queue/depth.js';
import type { Collector, Metrics } from './metrics.js';

/**
 * The scrape-time collector the `run` command installs with `metrics.setCollector(...)`: it
 * refreshes the gauges that describe stored state from the state DB (queue, dead letters,
 * backfill) and from the source DB (the slot). Two small queries per scrape; Prometheus scrapes
 * every 15–60 s, so this costs nothing next to the pipeline's own traffic.
 */

export type { Queryable };

export interface StateCollectorOptions {
  /** The state database (a pool: a scrape must not wait behind the pipeline's client). */
  state: Queryable;
  schema: string;
  /** The source database, for the slot; omit to leave the slot gauges alone. */
  source?: Queryable;
  slot?: string;
}

interface QueueRow {
  live: string;
  backfill: string;
  oldest_age: number | null;
  dead_letters: string;
  bf_enqueued: string | null;
  bf_total: string | null;
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

export function stateCollector(opts: StateCollectorOptions): Collector {
  const sql = stateMetricsSql(opts.schema);
  return async (m: Metrics) => {
    const [queue, slot] = await Promise.all([
      opts.state.query<QueueRow>(sql),
      opts.source && opts.slot ? readSlotFacts(opts.source, opts.slot) : Promise.resolve(null),
    ]);
    const q = queue.rows[0];
    if (q) applyQueueRow(m, q);
    // No slot (or no position yet): the gauges keep their value.
    if (slot?.lagBytes != null) m.slotLagBytes.set(slot.lagBytes);
    if (slot?.retainedBytes != null) m.slotRetainedWalBytes.set(slot.retainedBytes);
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
