import type { Problem } from '../../errors.js';
import { scrub } from '../../log/secrets.js';
import { pgProblem } from '../../pg/sqlstate.js';

/**
 * The Postgres problems `status` shows (src/pg/sqlstate.ts): those the daemon's services are
 * retrying, as they published them in their runtime documents, and `status`'s own when the
 * source refuses it.
 */
export interface PgProblemReport extends Problem {
  /** Who met it: a service of the running daemon, or this `status` itself. */
  component: 'capture' | 'delivery' | 'backfill' | 'status';
}

type Published = Partial<Record<'capture' | 'delivery' | 'backfill', Problem | null | undefined>>;

export function publishedProblems(docs: Published): PgProblemReport[] {
  const out: PgProblemReport[] = [];
  for (const [component, problem] of Object.entries(docs) as [PgProblemReport['component'], Problem | null | undefined][])
    if (problem) out.push({ ...problem, component });
  return out;
}

/** `status`'s own source connection refused for a reason to fix; any other error is thrown on. */
export function ownSourceProblem(err: unknown): PgProblemReport {
  const problem = pgProblem(err, 'source');
  if (!problem) throw err;
  return { ...problem, message: scrub(problem.message), component: 'status' };
}
