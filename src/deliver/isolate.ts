/**
 * One customer whose assembly query fails must not hold back the others of its batch. Some SQL
 * errors come from one row's data: a `{sql}` field whose subquery returns two rows for this
 * customer (SQLSTATE 21000), a cast or a function that fails on one value (class 22, data
 * exception; or a RAISE in a user function, P0001). On such an error the batch's keys are
 * assembled again in halves until the failing keys are alone; each of those is dead-lettered
 * with the database's message, and the others go on. Any other error (connection lost, server
 * restarting, a privilege revoked) is not about one row: it is thrown and the pass retried.
 */
import type { AssembleResult, Assembler } from '../assemble/index.js';
import type { Logger } from '../log/logger.js';
import type { KeyVerdict } from './verdicts.js';
import { formatProblem, type Problem } from '../errors.js';

/**
 * Pure: does this error say the CRM's shape changed under the mapping (a mapped column renamed,
 * dropped or retyped: undefined column or table, no such operator for the new type, a type
 * mismatch)? Then no customer of the batch can be assembled until the config is fixed.
 */
export function isSchemaError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '42703' || code === '42P01' || code === '42883' || code === '42804';
}

/** Reasons of dead letters held back by a schema change: `run` queues them again once the mapping checks pass. */
export const SCHEMA_CHANGED = 'the CRM schema changed: ';

/** Pure: is this error caused by the data of the rows read, rather than by the database or the mapping? */
export function isRowDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(21|22)[0-9A-Z]{3}$|^P0001$/.test(code);
}

export interface IsolatedAssembly {
  results: AssembleResult[];
  /** Keys whose own rows make the assembly query fail, as dead-letter verdicts. */
  failed: Extract<KeyVerdict, { kind: 'dead' }>[];
}

/**
 * `explainSchema` re-checks the mapping against the catalog as it is now, for the reason of a
 * schema error (`customers.fields.email: column "email" does not exist …`); without it, such an
 * error is thrown like any other.
 */
export async function assembleIsolating(
  assembler: Pick<Assembler, 'assemble'>,
  keys: readonly string[],
  log: Logger,
  explainSchema?: () => Promise<Problem[]>,
): Promise<IsolatedAssembly> {
  try {
    return { results: await assembler.assemble(keys), failed: [] };
  } catch (err) {
    if (explainSchema && isSchemaError(err) && keys.length > 0)
      return heldBySchema(err as Error & { code: string }, keys, log, explainSchema);
    if (!isRowDataError(err) || keys.length === 0) throw err;
    if (keys.length === 1) {
      const e = err as Error & { code: string };
      const reason = `the assembly query fails for this customer: ${e.message} (SQLSTATE ${e.code})`;
      log.warn({ key: keys[0], reason }, 'customer cannot be assembled; dead-lettering it, the rest of its batch goes on');
      return { results: [], failed: [{ kind: 'dead', key: keys[0] as string, reason, fieldPath: null, httpStatus: null, payload: null }] };
    }
    const mid = Math.ceil(keys.length / 2);
    const a = await assembleIsolating(assembler, keys.slice(0, mid), log);
    const b = await assembleIsolating(assembler, keys.slice(mid), log);
    return { results: [...a.results, ...b.results], failed: [...a.failed, ...b.failed] };
  }
}

/**
 * Every key of the batch waits as a dead letter naming the config key to fix: none of them is
 * sent without the field, capture goes on, and `run` queues them again once the fixed config's
 * mapping checks pass.
 */
async function heldBySchema(
  err: Error & { code: string },
  keys: readonly string[],
  log: Logger,
  explain: () => Promise<Problem[]>,
): Promise<IsolatedAssembly> {
  const problems = await explain().catch(() => [] as Problem[]);
  const what = problems.length ? problems.map(formatProblem).join('; ') : `${err.message} (SQLSTATE ${err.code})`;
  const fieldPath = problems[0]?.path ?? null;
  const reason = `${SCHEMA_CHANGED}${what}. Correct the config and restart: these customers are then sent again by themselves`;
  log.error({ keys: keys.length, configKey: fieldPath }, reason);
  return { results: [], failed: keys.map((key) => ({ kind: 'dead' as const, key, reason, fieldPath, httpStatus: null, payload: null })) };
}
