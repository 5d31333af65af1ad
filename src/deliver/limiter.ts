/**
 * The request limiter (docs/architecture.md, "Deliver"): never more than `limit` requests in any
 * rolling window of `windowMs`, spread evenly under sustained load, a lone request under light load
 * at once.
 *
 * It is a sliding log, not a token bucket: a bucket that starts full lets `limit` through at
 * once and then `limit` more as it refills, i.e. twice the limit inside the first window. Here
 * each send is at least `(windowMs + marginMs) / limit` after the previous one, and at least
 * `windowMs + marginMs` after the `limit`-th previous one. The margin absorbs the difference
 * between when we send and when the server's clock counts the arrival.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface LimiterConfig {
  /** Requests allowed per window (CareCycle: 60). */
  limit: number;
  /** Window length, ms (CareCycle: 60,000; tests shrink it). */
  windowMs: number;
  /** Safety margin added to the window, ms (default: 1% of the window, at most 250 ms). */
  marginMs?: number;
}

export function marginOf(cfg: LimiterConfig): number {
  return cfg.marginMs ?? Math.min(250, cfg.windowMs * 0.01);
}

/**
 * Pure: the earliest time a request may go, given the (ascending) times of earlier sends or
 * reservations, the current time and a pause imposed by a 429.
 */
export function nextSlot(sent: readonly number[], now: number, blockedUntil: number, cfg: LimiterConfig, lastScheduled?: number): number {
  const span = cfg.windowMs + marginOf(cfg);
  let t = Math.max(now, blockedUntil);
  // Even spacing counts from when the previous send was *due*, so a late wake-up (busy event
  // loop) does not push every later send back; the window rule below uses actual times.
  const last = lastScheduled ?? sent[sent.length - 1];
  if (last !== undefined) t = Math.max(t, last + span / cfg.limit);
  const limitBack = sent[sent.length - cfg.limit];
  if (sent.length >= cfg.limit && limitBack !== undefined) t = Math.max(t, limitBack + span);
  return t;
}

/**
 * Pure: the point on the even schedule that a send leaving at `slot` takes. Normally the
 * previous point plus one spacing; when the caller came late (all workers were busy), the
 * schedule may lag `slot` by at most one spacing, so the next send can make up that much and no
 * more: a short stall costs nothing, and an idle spell buys a burst of two at most. The window
 * rule in `nextSlot` still bounds every rolling window.
 */
export function scheduledPoint(slot: number, lastScheduled: number | undefined, cfg: LimiterConfig): number {
  const spacing = (cfg.windowMs + marginOf(cfg)) / cfg.limit;
  if (lastScheduled === undefined) return slot;
  return Math.min(slot, Math.max(lastScheduled + spacing, slot - spacing));
}

export class RateLimiter {
  /** The last `limit` sends: `t` reserved, then the actual time once it left; `slot` as scheduled. */
  private readonly sent: Array<{ t: number; slot: number }> = [];
  private blockedUntil = 0;

  constructor(
    readonly cfg: LimiterConfig,
    private readonly clock: () => number = Date.now,
  ) {
    if (!(cfg.limit >= 1) || !(cfg.windowMs > 0)) throw new RangeError('limiter needs limit >= 1 and windowMs > 0');
  }

  /**
   * Waits for a slot and reserves it; returns how long it waited (ms). Reservations are handed
   * out in call order. An aborted wait keeps its reservation: that only errs on the slow side.
   */
  async acquire(signal?: AbortSignal): Promise<number> {
    const start = this.clock();
    for (;;) {
      this.forgetOld(this.clock());
      const lastScheduled = this.sent[this.sent.length - 1]?.slot;
      const slot = nextSlot(
        this.sent.map((s) => s.t),
        this.clock(),
        this.blockedUntil,
        this.cfg,
        lastScheduled,
      );
      const mine = { t: slot, slot: scheduledPoint(slot, lastScheduled, this.cfg) };
      this.sent.push(mine);
      if (this.sent.length > this.cfg.limit) this.sent.splice(0, this.sent.length - this.cfg.limit);
      // Timers may fire a little early; never leave before the slot.
      for (let now = this.clock(); now < slot; now = this.clock()) await sleep(slot - now, undefined, { signal });
      // A 429 that arrived while we slept moves everyone behind the pause.
      if (this.blockedUntil > this.clock()) continue;
      // A late wake-up (busy event loop) is recorded as it happened, so later sends keep their distance.
      mine.t = Math.max(mine.t, this.clock());
      return this.clock() - start;
    }
  }

  /**
   * Waits until a request could leave now, without reserving the slot. The delivery loop waits
   * here *before* claiming keys, so everything that queued up meanwhile travels in one request.
   */
  async whenFree(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.forgetOld(this.clock());
      const slot = nextSlot(
        this.sent.map((s) => s.t),
        this.clock(),
        this.blockedUntil,
        this.cfg,
        this.sent[this.sent.length - 1]?.slot,
      );
      const now = this.clock();
      if (slot <= now) return;
      await sleep(slot - now, undefined, { signal });
    }
  }

  /** Sends older than one window (plus margin) constrain nothing; a huge `limit` must not mean a huge log. */
  private forgetOld(now: number): void {
    const horizon = now - this.cfg.windowMs - marginOf(this.cfg);
    let n = 0;
    while (n < this.sent.length && (this.sent[n]?.t ?? 0) < horizon) n++;
    if (n > 0) this.sent.splice(0, n);
  }

  /**
   * Counts requests that left before this limiter existed (another process, a previous run),
   * `sentAgoMs` ago each, as if it had sent them: a restart never starts from a full budget.
   */
  seed(sentAgoMs: readonly number[], pauseLeftMs = 0): void {
    const now = this.clock();
    const times = [...sentAgoMs.map((ago) => now - ago), ...this.sent.map((s) => s.t)].sort((a, b) => a - b);
    this.sent.splice(0, this.sent.length, ...times.slice(-this.cfg.limit).map((t) => ({ t, slot: t })));
    this.forgetOld(now);
    if (pauseLeftMs > 0) this.blockUntil(now + pauseLeftMs);
  }

  /** Counts requests another process sent meanwhile (`agoMs` ago each), keeping the schedule. */
  absorb(agoMs: readonly number[]): void {
    const now = this.clock();
    for (const ago of agoMs) {
      const t = now - ago;
      let at = this.sent.length;
      while (at > 0 && (this.sent[at - 1]?.t ?? 0) > t) at--;
      this.sent.splice(at, 0, { t, slot: t });
    }
    if (this.sent.length > this.cfg.limit) this.sent.splice(0, this.sent.length - this.cfg.limit);
    this.forgetOld(now);
  }

  /** Nothing leaves before `until` (a 429's retryAfter). */
  blockUntil(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
  }
}
