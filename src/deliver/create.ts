/**
 * Delivery as `run`, `backfill --wait` and the benchmarks run it (docs/architecture.md,
 * "Deliver"): the CareCycle client (transport, rate limiter seeded from the budget the state
 * database recorded, the request ledger), the mass-cancellation rail, the assembler and the
 * delivery loop over them, all from the config. The caller brings what it shares with other
 * services (the pools, the mapping plan) and the lease; what this acquires, `close` releases.
 */
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { apiKeyFileReader } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import type { StateDb } from '../state/db.js';
import { publishDelivery } from '../state/runtime.js';
import type { LeaseSource } from '../queue/lease.js';
import { createAssembler, type MappingPlan } from '../assemble/index.js';
import { acquire } from '../lib/releasers.js';
import { createDeliveryClient, type DeliveryClient, type RequestObservation } from './client.js';
import { recordedBudget, stateLedger } from './ledger.js';
import { createSafety } from './safety.js';
import { createDeliveryLoop } from './loop.js';
import { concurrencyFor, IDLE_POLL_MS, type DeliveryLoop, type DeliveryLoopOptions } from './loop-contract.js';

export interface DeliveryDeps {
  state: StateDb;
  crm: pg.Pool;
  plan: MappingPlan;
  apiKey: string;
  log: Logger;
  /** The slot lock holder's lease (src/queue/lease.ts): nothing is claimed without one. */
  lease: LeaseSource;
  /** Limiter window, ms (default 60,000; tests shrink it). */
  windowMs?: number;
  /** How often an idle loop looks at `pending` by itself (default IDLE_POLL_MS). */
  idlePollMs?: number;
  /** Each request as it leaves (after `lastRequestAt` is published for `status`). */
  observer?: (o: RequestObservation) => void;
  onBatch?: DeliveryLoopOptions['onBatch'];
  /** Fields left out under sync.onInvalidOptional: omit. */
  onOmitted?: (omitted: ReadonlyArray<{ path: string }>) => void;
  explainSchemaError?: DeliveryLoopOptions['explainSchemaError'];
  /**
   * Share the request budget through the state database (default true): seed the limiter from
   * the requests recorded in the last window, record each request and publish `lastRequestAt`.
   * Only a benchmark alone on its own database and stand-in turns it off, to measure the loop.
   */
  sharedBudget?: boolean;
}

export interface Delivery {
  readonly client: DeliveryClient;
  readonly loop: DeliveryLoop;
  /** Closes the client (its connections to CareCycle); the caller's pools stay open. */
  close(): Promise<void>;
}

export async function createDelivery(config: Config, deps: DeliveryDeps): Promise<Delivery> {
  const { state, log } = deps;
  const { carecycle } = config;
  const windowMs = deps.windowMs ?? 60_000;
  const shared = deps.sharedBudget !== false;
  // The budget survives restarts: what the last minute spent (any process) counts.
  const seed = shared ? await recordedBudget(state, windowMs + 1000) : undefined;
  const { value, releasers } = await acquire(async (r) => {
    const client = r.add(
      'delivery client',
      createDeliveryClient({
        baseUrl: carecycle.baseUrl,
        apiKey: deps.apiKey,
        requestsPerMinute: carecycle.requestsPerMinute,
        timeoutMs: carecycle.timeoutMs,
        network: { proxy: carecycle.proxy, caFile: carecycle.caFile },
        log,
        windowMs: deps.windowMs,
        observer: (o) => {
          if (shared) void publishDelivery(state, { lastRequestAt: new Date().toISOString() }).catch(() => undefined);
          deps.observer?.(o);
        },
        authCooldownMs: carecycle.authRetrySeconds * 1000,
        reloadApiKey: apiKeyFileReader(),
        ledger: shared ? stateLedger(state) : undefined,
        seed,
      }),
      (c) => c.close().catch(() => undefined),
    );
    const loop = createDeliveryLoop({
      state,
      log,
      batchSize: config.sync.batchSize,
      idlePollMs: deps.idlePollMs ?? IDLE_POLL_MS,
      concurrency: concurrencyFor(carecycle.requestsPerMinute),
      fatalRetryMs: carecycle.authRetrySeconds * 1000,
      assembler: createAssembler({ config, crm: deps.crm, state, plan: deps.plan, log, onOmitted: deps.onOmitted }),
      client: { deliver: client.deliver, ready: (signal) => client.ready(signal) },
      lease: deps.lease,
      abandonGraceMs: carecycle.timeoutMs,
      safety: createSafety(state, config.sync.safety.maxCancellations, log.child({ component: 'safety' })),
      explainSchemaError: deps.explainSchemaError,
      onBatch: deps.onBatch,
    });
    return { client, loop };
  });
  return { ...value, close: () => releasers.release() };
}
