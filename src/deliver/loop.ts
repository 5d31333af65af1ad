/**
 * The delivery loop (docs/architecture.md, "Assemble" and "Deliver"): pending keys → assembled
 * records → CareCycle → settled state. It waits for a request slot *before* claiming keys, so under
 * heavy load the keys that piled up meanwhile travel together and the limiter itself produces full
 * batches, while under light load a change goes out at once. It holds nothing but the keys of one
 * batch.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FatalError, type Problem } from '../errors.js';
import { publishDelivery, errorPatch } from '../state/runtime.js';
import { ApiKeyRejectedError } from './errors.js';
import type { Lease } from '../queue/lease.js';
import type { SafetyVerdict } from './safety.js';
import { claimPending, type Claimed } from '../queue/claim.js';
import { leaveForHolder } from '../queue/unknown-outcome.js';
import { settle, type SettleCounts } from './queue-state.js';
import { itemsToSend, verdictsFor } from './verdicts.js';
import { assembleIsolating } from './isolate.js';
import { markInDoubt } from './in-doubt.js';
import { PgProblemTracker } from '../pg/problem-tracker.js';
import { IDLE_POLL_MS, topUpSize, type DeliveryLoop, type DeliveryLoopOptions, type DeliveryStatus } from './loop-contract.js';

export * from './loop-contract.js';

export function createDeliveryLoop(o: DeliveryLoopOptions): DeliveryLoop {
  const log = o.log.child({ component: 'delivery' });
  const st: DeliveryStatus = {
    keyRejected: false,
    blocked: null,
    waitingSince: null,
    lastProgressAt: null,
    lastError: null,
    problem: null,
    delivered: 0,
    skipped: 0,
    deadLettered: 0,
    batches: 0,
  };
  // A wrong password or a missing grant is retried slowly and shown until it is fixed.
  const problems = new PgProblemTracker({ log, what: 'delivery', onChange: (problem) => void publishProblem(problem) });
  const publishProblem = (problem: Problem | null) => publishDelivery(o.state, { problem: (st.problem = problem) }).catch(() => {});
  const sleepers = new Set<() => void>();
  let woken = false;
  /** Keys claimed by a batch in flight: parallel batches never share a customer. */
  const inFlight = new Set<string>();
  /** Claim time of each batch in flight (see settle's `oldestInFlight`). */
  const claimTimes = new Map<symbol, string>();
  const oldestClaim = () => [...claimTimes.values()].reduce((a, b) => (Number(b) < Number(a) ? b : a));
  let claiming: Promise<unknown> = Promise.resolve();

  /** Waits for the lease and a request slot and claims keys, one batch at a time (a mutex over ready + claim). */
  function claimNext(signal?: AbortSignal): Promise<{ claimed: Claimed[]; lease: Lease | null }> {
    const mine = claiming.then(async () => {
      await leaseHeld(signal);
      await o.client.ready?.(signal);
      const lease = o.lease();
      if (!lease) return { claimed: [], lease };
      return { claimed: await claimKeys(o.batchSize, lease), lease };
    });
    claiming = mine.catch(() => undefined);
    return mine;
  }

  /** Resolves once this instance holds the delivery lease (or on abort). */
  async function leaseHeld(signal?: AbortSignal): Promise<void> {
    while (!o.lease() && !signal?.aborted) await sleep(100, undefined, { signal }).catch(() => undefined);
  }

  /**
   * The claim itself, one at a time, so parallel batches never share a customer. Separate from
   * claimNext's mutex: a batch topping up must not wait behind another's wait for the lease or a
   * request slot (the lease can come back only once the batches in flight are done).
   */
  let claimingKeys: Promise<unknown> = Promise.resolve();
  function claimKeys(limit: number, lease: Lease): Promise<Claimed[]> {
    const mine = claimingKeys.then(async () => {
      const got = await claimPending(o.state, limit, [...inFlight], lease);
      for (const c of got) inFlight.add(c.key);
      return got;
    });
    claimingKeys = mine.catch(() => undefined);
    return mine;
  }

  /** Assembles the claimed keys (isolating customers whose query fails) and tops the request up. */
  async function assembleFull(claimed: Claimed[], lease: Lease, shutdown?: AbortSignal) {
    const { results, failed } = await assembleIsolating(
      o.assembler,
      claimed.map((c) => c.key),
      log,
      o.explainSchemaError,
    );
    let records = itemsToSend(results).length;
    let asked = o.batchSize;
    let got = claimed.length;
    for (
      let round = 0, n = topUpSize(records, o.batchSize, asked, got, round);
      n > 0;
      n = topUpSize(records, o.batchSize, asked, got, ++round)
    ) {
      // A drain finishes what it holds; it does not take on more.
      if (shutdown?.aborted || lease.lost.aborted) break;
      const more = await claimKeys(n, lease);
      claimed.push(...more);
      asked = n;
      got = more.length;
      if (more.length === 0) break;
      const extra = await assembleIsolating(
        o.assembler,
        more.map((c) => c.key),
        log,
        o.explainSchemaError,
      );
      results.push(...extra.results);
      failed.push(...extra.failed);
      records += itemsToSend(extra.results).length;
    }
    return { results, failed };
  }

  const NOTHING = { delivered: 0, skipped: 0, deadLettered: 0, rejectedByApi: 0, autoTerminated: 0, requeued: 0 };

  async function once(signal?: AbortSignal, hard?: AbortSignal) {
    const shutdown = signal;
    const { claimed, lease } = await claimNext(signal);
    problems.cleared('state.url');
    // Idle only when no other worker holds keys either.
    if (claimed.length > 0) st.waitingSince ??= Date.now();
    else if (inFlight.size === 0) st.waitingSince = null;
    if (claimed.length === 0 || !lease) return { keys: 0, ...NOTHING };
    const batch = Symbol('batch');
    claimTimes.set(batch, claimed[0]!.claimedAt);
    try {
      const { results: assembled, failed } = await assembleFull(claimed, lease, shutdown);
      problems.cleared();
      // Records the rail holds stay pending, untouched by this batch's settle.
      const rail: SafetyVerdict | null = o.safety ? await o.safety.check(assembled, claimed) : null;
      if (rail?.held.size) await o.safety!.hold(rail, claimed);
      const results = rail?.held.size ? assembled.filter((r) => !rail.held.has(r.key)) : assembled;
      const settling = rail?.held.size ? claimed.filter((c) => !rail.held.has(c.key)) : claimed;
      const items = itemsToSend(results);
      // Once keys are claimed, only the hard signal stops the request (a drain waits for its
      // answer), or the loss of the lease: a newer holder sends these customers now.
      const stop = hard ? AbortSignal.any([hard, lease.lost]) : lease.lost;
      // The outcome of a request is unknown until it is answered: say so first, and record the
      // policies it may create (see ./in-doubt.ts).
      if (items.length) await markInDoubt(o.state, results, lease);
      const outcomes = items.length ? await o.client.deliver(items, stop) : [];
      const verdicts = [...verdictsFor(results, outcomes), ...failed];
      const counts = lease.lost.aborted ? { ...NOTHING, fenced: true } : await settle(o.state, settling, verdicts, lease, oldestClaim());
      if (counts.fenced) return await fenced(claimed, shutdown);
      st.lastProgressAt = Date.now();
      st.waitingSince = inFlight.size > claimed.length ? Date.now() : null;
      if (rail) await o.safety!.sent(rail, new Set(verdicts.filter((v) => v.kind === 'delivered').map((v) => v.key)), claimed);
      for (const v of verdicts)
        if (v.kind === 'delivered' && v.autoTerminated.length > 0)
          reportAutoTerminated(v.key, v.autoTerminated, v.result.restoring === true && !v.createdPolicies);
      tally(counts, items.length, claimed);
      // Only an answered request proves the key works again (a batch of unchanged records sends nothing).
      if ((st.keyRejected || st.blocked) && items.length > 0) await clearKeyRejected();
      return { keys: claimed.length, ...counts };
    } catch (err) {
      if (lease.lost.aborted) return await fenced(claimed, shutdown);
      throw err;
    } finally {
      claimTimes.delete(batch);
      for (const c of claimed) inFlight.delete(c.key);
    }
  }

  /**
   * The lease went while this batch was out: record nothing; once CareCycle can no longer be
   * applying it (or at shutdown), leave its customers to the holder to send again.
   */
  async function fenced(claimed: readonly Claimed[], shutdown?: AbortSignal) {
    const graceMs = o.abandonGraceMs ?? 30_000;
    log.warn(
      { keys: claimed.length, requeueInMs: graceMs },
      'the delivery lease was lost with a batch in flight: nothing recorded; its customers go to the new holder again',
    );
    await sleep(graceMs, undefined, { signal: shutdown }).catch(() => undefined);
    await leaveForHolder(o.state, claimed).catch((err: Error) =>
      log.warn({ err: err.message }, 'could not queue the batch again; the new holder re-sends it when the customers change'),
    );
    return { keys: claimed.length, ...NOTHING, fenced: true };
  }

  function tally(counts: SettleCounts, records: number, claimed: readonly Claimed[]) {
    st.delivered += counts.delivered;
    st.skipped += counts.skipped;
    st.deadLettered += counts.deadLettered;
    st.batches++;
    o.onBatch?.({ ...counts, records, priority: claimed[0]?.priority ?? 0 });
    if (counts.deadLettered)
      log.warn({ deadLettered: counts.deadLettered }, 'records dead-lettered (see `carecycle-sync dead-letters list`)');
    log.debug({ keys: claimed.length, records, ...counts }, 'batch settled');
  }

  /** CareCycle terminated policies by itself: a new policy ends year-old ones (docs/carecycle-api.md, A17). */
  function reportAutoTerminated(key: string, policies: string[], restoring: boolean) {
    if (restoring) {
      log.warn(
        { key, policies },
        'CareCycle terminated these policies again right after we restored them; leaving them as CareCycle has them',
      );
    } else {
      log.warn(
        { key, policies },
        'CareCycle terminated these policies by itself when a new policy was created; sending the customer once more to restore their CRM status',
      );
    }
  }

  async function clearKeyRejected() {
    st.keyRejected = false;
    st.blocked = null;
    log.info('CareCycle accepts the API key again; delivery resumed');
    await publishDelivery(o.state, { keyRejected: false }).catch(() => undefined);
  }

  async function onFailure(err: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      log.debug({ err: (err as Error).message }, 'delivery wait interrupted by shutdown');
      return;
    }
    st.lastError = err instanceof Error ? err.message : String(err);
    const retryMs = o.fatalRetryMs ?? 60_000;
    let waitMs = err instanceof FatalError ? retryMs : 1000;
    if (err instanceof FatalError) st.blocked = st.lastError;
    if (err instanceof ApiKeyRejectedError) {
      st.keyRejected = true;
      log.error(
        { err, retryInSeconds: retryMs / 1000 },
        err.refusal === 'forbidden'
          ? 'THE API KEY LACKS PERMISSION for /v2/sync/aca: delivery stopped, changes keep queueing. Use a key with the sync permission.'
          : 'CareCycle REJECTS THE API KEY: delivery stopped, changes keep queueing. Fix carecycle.apiKey / CARECYCLE_API_KEY.',
      );
      await publishDelivery(o.state, {
        keyRejected: true,
        keyRejectedAt: new Date().toISOString(),
        keyRefusal: err.refusal,
        ...errorPatch(err),
      }).catch(() => undefined);
    } else if (err instanceof FatalError) {
      log.error({ err, retryInSeconds: retryMs / 1000 }, 'delivery stopped by a fatal error; changes keep queueing');
      await publishDelivery(o.state, errorPatch(err)).catch(() => undefined);
    } else {
      // Postgres errors not marked with their connection come from the state database; a
      // problem that needs a person was logged once, at error level, with its fix.
      const retry = problems.failed(err, 'state', 1000);
      if (!retry.problem) log.warn({ err }, 'delivery pass failed; retrying');
      await publishDelivery(o.state, errorPatch(err)).catch(() => undefined);
      waitMs = retry.waitMs;
    }
    await sleep(waitMs, undefined, { signal }).catch(() => undefined);
  }

  async function idle(signal: AbortSignal): Promise<void> {
    if (woken) {
      woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, o.idlePollMs ?? IDLE_POLL_MS);
      sleepers.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
    woken = false;
  }

  return {
    once,
    status: () => ({ ...st }),
    wake() {
      woken = true;
      for (const wake of [...sleepers]) wake();
    },
    async run(signal, hard) {
      const width = Math.max(1, o.concurrency ?? 1);
      log.info({ batchSize: o.batchSize, concurrency: width }, 'delivery started');
      const worker = async () => {
        while (!signal.aborted) {
          try {
            const r = await once(signal, hard);
            if (r.keys === 0) await idle(signal);
          } catch (err) {
            await onFailure(err, signal);
          }
        }
      };
      await Promise.all(Array.from({ length: width }, worker));
      log.info({ delivered: st.delivered, skipped: st.skipped, deadLettered: st.deadLettered }, 'delivery stopped');
    },
  };
}
