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

export async function assembleIsolating(assembler: Pick<Assembler, 'assemble'>, keys: readonly string[], log: Logger): Promise<IsolatedAssembly> {
  try {
    return { results: await assembler.assemble(keys), failed: [] };
  } catch (err) {
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
