import type { Logger } from 'pino';
import type { Problem } from '../errors.js';
import { connectionOf, pgProblem, problemBackoffMs, type PgConnectionName } from './sqlstate.js';

/**
 * What one retry loop (capture, delivery, the initial backfill) knows about the Postgres problem
 * it is stuck on (./sqlstate.ts): the problem itself for `/readyz` and `status`, the slow backoff
 * while it lasts, and one error log line with the fix each time it changes (not one per attempt).
 */
export interface RetryDecision {
  /** The problem only a person can fix, or null for an error that goes away by itself. */
  problem: Problem | null;
  waitMs: number;
}

export class PgProblemTracker {
  private current: Problem | null = null;
  private attempts = 0;

  constructor(
    private readonly o: {
      log: Logger;
      /** What stops while the problem lasts, for the log line ("capture", "delivery"). */
      what: string;
      /** Called when the problem appears, changes or goes away (to publish it). */
      onChange?: (problem: Problem | null) => void;
    },
  ) {}

  get problem(): Problem | null {
    return this.current;
  }

  /**
   * After a failure: `fallback` names the connection when the error was not marked with one,
   * `retryMs` is the loop's own delay for an error that goes away by itself. An error of that kind
   * leaves a problem already known in place: it does not prove the problem fixed.
   */
  failed(err: unknown, fallback: PgConnectionName, retryMs: number): RetryDecision {
    const problem = pgProblem(err, connectionOf(err, fallback));
    if (!problem) return { problem: this.current, waitMs: retryMs };
    if (problem.code !== this.current?.code || problem.path !== this.current?.path) {
      this.attempts = 0;
      this.o.log.error(
        { code: problem.code, configKey: problem.path, fix: problem.fix },
        `${this.o.what} cannot go on until this is fixed: ${problem.message}. Fix: ${problem.fix} (retrying by itself meanwhile)`,
      );
      this.current = problem;
      this.o.onChange?.(problem);
    }
    return { problem, waitMs: problemBackoffMs(this.attempts++) };
  }

  /**
   * After the work got past the point where it failed: the problem is gone. With `path`, only a
   * problem of that connection's config key (`state.url`): what worked proves nothing of the others.
   */
  cleared(path?: string): void {
    if (!this.current || (path !== undefined && this.current.path !== path)) return;
    this.o.log.info({ code: this.current.code, configKey: this.current.path }, `${this.o.what}: the Postgres problem is fixed; going on`);
    this.current = null;
    this.attempts = 0;
    this.o.onChange?.(null);
  }
}
