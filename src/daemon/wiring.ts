/**
 * Small adapters between the services and the metrics/status sinks, kept out of the
 * composition root so it reads as a list of parts.
 */
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../observe/metrics.js';
import { observeRateLimitWait, observeRequest } from '../observe/metrics.js';
import type { RequestObservation } from '../deliver/index.js';
import type { SettleCounts } from '../deliver/queue-state.js';
import type { Capture } from '../source/capture.js';

export function requestObserver(metrics: Metrics, log: Logger) {
  return (o: RequestObservation): void => {
    observeRequest(metrics, o.status === 0 ? 'error' : o.status, o.latencyMs / 1000);
    if (o.rateLimitWaitMs > 50)
      observeRateLimitWait(metrics, o.attempt > 0 && o.status === 429 ? 'retry_after' : 'limiter', o.rateLimitWaitMs / 1000);
    if (o.status === 429) log.warn({ attempt: o.attempt }, 'CareCycle answered 429: waiting as it asks');
  };
}

export function batchObserver(metrics: Metrics) {
  return (c: SettleCounts & { records: number }): void => {
    if (c.delivered) metrics.recordsDelivered.inc(c.delivered);
    if (c.rejectedByApi) metrics.recordsFailed.inc({ stage: 'api' }, c.rejectedByApi);
    if (c.deadLettered > c.rejectedByApi) metrics.recordsFailed.inc({ stage: 'validation' }, c.deadLettered - c.rejectedByApi);
    if (c.skipped) metrics.recordsSkipped.inc({ reason: 'unchanged' }, c.skipped);
    if (c.autoTerminated) metrics.policiesAutoTerminated.inc(c.autoTerminated);
  };
}

/** Counts the fields left out under sync.onInvalidOptional: omit, by path (`policies[].status`). */
export function omittedObserver(metrics: Metrics) {
  return (omitted: ReadonlyArray<{ path: string }>): void => {
    for (const f of omitted) metrics.fieldsOmitted.inc({ field: f.path.replace(/\[\d+\]/g, '[]') });
  };
}

/** Mirrors the capture counters into Prometheus (counters only go up: add the difference). */
export function captureMirror(metrics: Metrics, capture: Capture): () => void {
  let seen = 0;
  let flushed = 0;
  let unattributed = 0;
  let recreated = 0;
  return () => {
    const s = capture.status();
    metrics.replicationConnected.set(s.connected ? 1 : 0);
    if (s.changesSeen > seen) metrics.changesReceived.inc({ table: 'all' }, s.changesSeen - seen);
    if (s.keysFlushed > flushed) metrics.keysFlushed.inc(s.keysFlushed - flushed);
    if (s.unattributedChanges > unattributed) metrics.changesWithoutOldCustomer.inc(s.unattributedChanges - unattributed);
    seen = s.changesSeen;
    flushed = s.keysFlushed;
    unattributed = s.unattributedChanges;
    if (s.slotRecreations > recreated) metrics.slotRecreations.inc(s.slotRecreations - recreated);
    recreated = s.slotRecreations;
  };
}

/** Resolves once this instance streams from the slot (not a standby); rejects on abort. */
export async function whileActive(capture: Capture, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const s = capture.status();
    if (s.connected && !s.isStandby) return;
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    await new Promise((r) => setTimeout(r, 100));
  }
}
