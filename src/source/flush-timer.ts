/**
 * Capture's flush timer: one timeout at a time, set for the earliest moment anyone asked for,
 * so an idle stream holds no timer at all and a busy one at most one. `end()` stops it for good.
 */
export class FlushTimer {
  private timer: NodeJS.Timeout | null = null;
  private at = 0;
  private ended = false;

  constructor(
    private readonly fire: () => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Fires `waitMs` from now, unless an earlier firing is already set; null asks for nothing. */
  request(waitMs: number | null): void {
    if (this.ended || waitMs === null) return;
    const at = this.clock() + waitMs;
    if (this.timer && this.at <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fire();
    }, waitMs);
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  end(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
