/**
 * The honest ETA of a backfill: delivery, not enqueueing, is the bottleneck. CareCycle takes at
 * most `requestsPerMinute` requests of up to `batchSize` records, so N keys need
 * N ÷ (rpm × batch) minutes (250,000 customers at 60/min × 100 ≈ 42 minutes), and live changes
 * share that budget. Pure functions, unit-tested.
 */

export function deliveryEtaMs(keys: number, requestsPerMinute: number, batchSize: number): number {
  if (keys <= 0) return 0;
  const perMinute = Math.max(1, requestsPerMinute) * Math.max(1, batchSize);
  return (keys / perMinute) * 60_000;
}

/** Keys the run still has to deliver: those waiting in `pending` plus those not yet enqueued. */
export function remainingKeys(p: { pendingBackfill: number; enqueued: number; total: number | null; finished: boolean }): number {
  const notYetEnqueued = p.finished || p.total === null ? 0 : Math.max(0, p.total - p.enqueued);
  return p.pendingBackfill + notYetEnqueued;
}

/** Rate over a sliding window of (time, count) samples; keeps samples of the last `windowMs`. */
export class RateMeter {
  private samples: Array<{ t: number; n: number }> = [];
  constructor(private readonly windowMs = 10_000) {}

  add(t: number, n: number): void {
    this.samples.push({ t, n });
    while (this.samples.length > 2 && this.samples[0]!.t < t - this.windowMs) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  /** Units per second between the oldest and newest sample; 0 until there are two. */
  perSecond(): number {
    if (this.samples.length < 2) return 0;
    const a = this.samples[0]!;
    const b = this.samples[this.samples.length - 1]!;
    return b.t > a.t ? ((b.n - a.n) * 1000) / (b.t - a.t) : 0;
  }
}

/** Time left at `perSecond`; null when the rate is unknown. */
export function etaAtRateMs(left: number, perSecond: number): number | null {
  if (left <= 0) return 0;
  return perSecond > 0 ? (left / perSecond) * 1000 : null;
}
