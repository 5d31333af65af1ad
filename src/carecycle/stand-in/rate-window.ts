/**
 * The stand-in's per-minute limit: a sliding log of the times requests were accepted for
 * processing. A request is refused when the window (now - windowMs, now] already holds `limit`
 * of them, so no rolling window ever holds more than `limit` accepted requests. The real API's
 * window type is not documented (docs/carecycle-api.md, A2); a sliding log is the strictest reading.
 */
export class RollingWindow {
  private readonly times: number[] = [];

  constructor(
    public limit: number,
    public readonly windowMs: number,
  ) {}

  /** Records `now` and returns 0 if there is room, else the ms until the oldest entry leaves. */
  tryAcquire(now: number): number {
    this.evict(now);
    if (this.times.length < this.limit) {
      this.times.push(now);
      return 0;
    }
    const oldest = this.times[this.times.length - this.limit] ?? now;
    return Math.max(1, oldest + this.windowMs - now);
  }

  private evict(now: number): void {
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] ?? 0) <= now - this.windowMs) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
}

/** Largest number of `times` (sorted ascending) inside any half-open window of length `windowMs`. */
export function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while ((times[hi] ?? 0) - (times[lo] ?? 0) >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
