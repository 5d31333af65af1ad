/**
 * Retry delays for 5xx, timeouts and connection resets: exponential with "equal jitter"
 * (half fixed, half random), capped, so a fleet of retries neither synchronises nor stalls.
 */
export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 500, maxMs: 60_000 };

/** Pure: the delay before retry number `attempt` (0 = first retry). `random` ∈ [0, 1). */
export function backoffDelayMs(attempt: number, cfg: BackoffConfig = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = Math.min(cfg.maxMs, cfg.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}
