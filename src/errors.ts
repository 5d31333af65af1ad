/**
 * The small error taxonomy of the daemon. Classifiers elsewhere decide by
 * SQLSTATE or HTTP status and body code, never by message text; these classes carry the verdict.
 */

/**
 * One problem an operator has to act on, wherever it was found: a config check, the mapping
 * checked against the catalog, capture, doctor, or a Postgres error that only the configuration
 * (or the database's grants) can fix. `path` is the config key path it concerns (`customers.key`,
 * `source.url`, `state.url`); `fix` the SQL or config change that fixes it, when there is one.
 * Consumers read these fields, never the text of `message`.
 */
export interface Problem {
  severity: 'error' | 'warning';
  path: string;
  message: string;
  fix?: string;
  /**
   * A stable name for code that must tell problems apart: the SQLSTATE when Postgres reported it,
   * else one of ours (`no-replica-identity`).
   */
  code?: string;
}

/** One problem as the CLI prints it: `path: message`, then its fix on a line of its own. */
export function formatProblem(p: Problem): string {
  return `${p.severity === 'warning' ? 'warning: ' : ''}${p.path}: ${p.message}${p.fix ? `\n      fix: ${p.fix}` : ''}`;
}

/** A configuration problem: exit code 2. `problems` lists every issue, each naming the key path. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  readonly exitCode = 2;
}

/** Something that cannot be retried into success (e.g. the API key is rejected, a slot is lost). */
export class FatalError extends Error {
  override readonly name: string = 'FatalError';
  readonly exitCode = 1;
}

/** A failure worth retrying with backoff (connection reset, 5xx, timeout). */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
}

/** The other side asked us to slow down; wait `retryAfterMs` before trying again. */
export class RateLimitedError extends Error {
  override readonly name: string = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One record was rejected (locally or by the API); it goes to dead letters with the reason. */
export class RecordRejectedError extends Error {
  override readonly name: string = 'RecordRejectedError';
  constructor(
    readonly key: string,
    readonly reason: string,
    readonly fieldPath?: string,
    readonly httpStatus?: number,
  ) {
    super(`record ${key} rejected${fieldPath ? ` at ${fieldPath}` : ''}: ${reason}`);
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError || err instanceof UsageError) return 2;
  return 1;
}
