import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The daemon's Prometheus metrics (docs/architecture.md, "External contract"), on a registry of its
 * own rather than prom-client's global one, so that two daemons in one process (tests, the demo)
 * never share counters.
 *
 * Counters and the latency histogram are updated where things happen (source, deliver).
 * Gauges that describe stored state (queue depth, dead letters, slot lag, backfill) are
 * refreshed on each scrape by one collector callback (`setCollector`), so a scrape shows what
 * the state DB says now, not what some loop last remembered.
 */

export const METRIC_PREFIX = 'carecycle_sync_';

/** Queue priorities of `pending.priority` (0 live, 1 backfill) as label values. */
export type QueuePriority = 'live' | 'backfill';

/** What the collector refreshes; it gets the metrics object and sets gauges on it. */
export type Collector = (metrics: Metrics) => Promise<void>;

export interface Metrics {
  readonly registry: Registry;
  // Capture (source → queue)
  readonly changesReceived: Counter<'table'>;
  readonly keysFlushed: Counter;
  readonly changesWithoutOldCustomer: Counter;
  readonly slotRecreations: Counter;
  readonly heldCustomers: Gauge;
  readonly confirmLagBytes: Gauge;
  readonly replicationConnected: Gauge;
  // Postgres slot, read from pg_replication_slots on scrape
  readonly slotLagBytes: Gauge;
  readonly slotRetainedWalBytes: Gauge;
  // Queue, read from the state DB on scrape
  readonly queueDepth: Gauge<'priority'>;
  readonly oldestPendingAgeSeconds: Gauge;
  readonly deadLetters: Gauge;
  readonly backfillEnqueued: Gauge;
  readonly backfillTotal: Gauge;
  // Delivery
  readonly recordsDelivered: Counter;
  readonly recordsFailed: Counter<'stage'>;
  readonly recordsSkipped: Counter<'reason'>;
  readonly fieldsOmitted: Counter<'field'>;
  readonly policiesAutoTerminated: Counter;
  readonly requests: Counter<'status'>;
  readonly requestDuration: Histogram<'status'>;
  readonly rateLimitWaits: Counter<'reason'>;
  readonly rateLimitWaitSeconds: Counter<'reason'>;
  // The scrape itself
  readonly collectErrors: Counter;
  /** Replaces the scrape-time collector (one at a time; the run command owns it). */
  setCollector(fn: Collector | undefined): void;
  /** Runs the collector (bounded by `collectTimeoutMs`), then renders the Prometheus text. */
  render(): Promise<string>;
  /** `Content-Type` of `render()`'s text. */
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Include Node's process metrics (CPU, RSS, event-loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** A slow state DB must not hang the scrape: the collector is abandoned after this. Default 5000. */
  collectTimeoutMs?: number;
  /** Called when the collector fails or times out (the scrape still answers, with older values). */
  onCollectError?: (err: unknown) => void;
}

/** Request latency buckets, seconds: CareCycle answers 100-record batches in ~0.1–2 s. */
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  // The event-loop delay histogram samples once a second, not prom-client's default 100 times:
  // that timer alone cost an idle daemon 0.4 % of a core. The scrape still measures the lag itself.
  if (opts.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 1000 });
  const registers = [registry];
  const n = (name: string) => `${METRIC_PREFIX}${name}`;
  const gauge = (name: string, help: string) => new Gauge({ name: n(name), help, registers });
  const counter = (name: string, help: string) => new Counter({ name: n(name), help, registers });

  let collector: Collector | undefined;
  const collectTimeoutMs = opts.collectTimeoutMs ?? 5000;

  const m = {
    registry,
    changesReceived: new Counter({
      name: n('changes_received_total'),
      help: 'Row changes (insert/update/delete) received from the replication stream, by table.',
      labelNames: ['table'] as const,
      registers,
    }),
    keysFlushed: counter(
      'keys_flushed_total',
      'Customer keys written to the pending queue by capture flushes (after coalescing within a flush).',
    ),
    heldCustomers: gauge(
      'held_customers',
      'Customers whose records the mass-cancellation rail holds until `carecycle-sync approve` (0 when none).',
    ),
    slotRecreations: counter(
      'slot_recreations_total',
      'Lost or missing replication slots this process recreated (each followed by a reconcile of every customer).',
    ),
    changesWithoutOldCustomer: counter(
      'changes_without_old_customer_total',
      'Changes on watched tables whose previous customer cannot be known without REPLICA IDENTITY FULL: deletes, and updates that may have moved a row to another customer (that customer is not re-sent).',
    ),
    confirmLagBytes: gauge('confirm_lag_bytes', 'WAL end last reported by the server minus the LSN this daemon last confirmed, bytes.'),
    replicationConnected: gauge('replication_connected', '1 while the replication stream is connected, else 0.'),
    slotLagBytes: gauge(
      'slot_lag_bytes',
      'pg_current_wal_lsn() minus the slot confirmed_flush_lsn, bytes (changes not yet durable in the queue).',
    ),
    slotRetainedWalBytes: gauge(
      'slot_retained_wal_bytes',
      'pg_current_wal_lsn() minus the slot restart_lsn: WAL the server keeps for this slot, bytes.',
    ),
    queueDepth: new Gauge({
      name: n('queue_depth'),
      help: 'Customers waiting in the pending queue, by priority (live, backfill).',
      labelNames: ['priority'] as const,
      registers,
    }),
    oldestPendingAgeSeconds: gauge(
      'oldest_pending_age_seconds',
      'Age of the oldest pending customer (first enqueued), seconds; 0 when the queue is empty.',
    ),
    deadLetters: gauge('dead_letters', 'Records in dead letters (not deliverable as they are; see `carecycle-sync dead-letters list`).'),
    backfillEnqueued: gauge('backfill_enqueued', 'Customers enqueued by the current (or last) backfill run.'),
    backfillTotal: gauge('backfill_total', 'Customers the current (or last) backfill run will enqueue in all (estimate).'),
    recordsDelivered: counter('records_delivered_total', 'Records accepted by CareCycle.'),
    recordsFailed: new Counter({
      name: n('records_failed_total'),
      help: 'Records dead-lettered, by stage: validation (never sent) or api (rejected by CareCycle).',
      labelNames: ['stage'] as const,
      registers,
    }),
    recordsSkipped: new Counter({
      name: n('records_skipped_total'),
      help: 'Records not sent, by reason: unchanged (same hash as the last send), deleted (customer delete ignored).',
      labelNames: ['reason'] as const,
      registers,
    }),
    fieldsOmitted: new Counter({
      name: n('fields_omitted_total'),
      help: 'Optional fields left out of a record because their value was refused (sync.onInvalidOptional: omit), by field path.',
      labelNames: ['field'] as const,
      registers,
    }),
    policiesAutoTerminated: counter(
      'policies_auto_terminated_total',
      'Policies CareCycle terminated by itself (a new policy ends year-old ones); their customers are sent once more to restore the CRM status.',
    ),
    requests: new Counter({
      name: n('requests_total'),
      help: 'Requests to CareCycle by HTTP status ("error" for network failures and timeouts).',
      labelNames: ['status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: n('request_duration_seconds'),
      help: 'Latency of requests to CareCycle, seconds, by HTTP status.',
      labelNames: ['status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    rateLimitWaits: new Counter({
      name: n('rate_limit_waits_total'),
      help: 'Times delivery waited for the rate budget: limiter (our own per-minute budget) or retry_after (a 429).',
      labelNames: ['reason'] as const,
      registers,
    }),
    rateLimitWaitSeconds: new Counter({
      name: n('rate_limit_wait_seconds_total'),
      help: 'Seconds spent waiting for the rate budget, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    collectErrors: counter(
      'collect_errors_total',
      'Scrapes whose refresh from the state DB failed or timed out (gauges then show older values).',
    ),
    contentType: registry.contentType,
    setCollector(fn: Collector | undefined) {
      collector = fn;
    },
    async render(): Promise<string> {
      if (collector) await runCollector(collector, m, collectTimeoutMs, opts.onCollectError);
      return registry.metrics();
    },
  } satisfies Metrics;
  m.replicationConnected.set(0);
  return m;
}

async function runCollector(fn: Collector, m: Metrics, timeoutMs: number, onError?: (err: unknown) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`metrics collector took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([fn(m), timeout]);
  } catch (err) {
    m.collectErrors.inc();
    onError?.(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Records one finished request: the status counter and the latency histogram. */
export function observeRequest(m: Metrics, status: number | 'error', seconds: number): void {
  const label = String(status);
  m.requests.inc({ status: label });
  m.requestDuration.observe({ status: label }, seconds);
}

/** Records one wait for the rate budget. */
export function observeRateLimitWait(m: Metrics, reason: 'limiter' | 'retry_after', seconds: number): void {
  m.rateLimitWaits.inc({ reason });
  m.rateLimitWaitSeconds.inc({ reason }, seconds);
}
