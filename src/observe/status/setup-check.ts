import type pg from 'pg';
import type { StateDb } from '../../state/db.js';

/** Tables a command needs before it can read or write state; missing ones mean `setup` was not run. */
const STATE_TABLES = ['checkpoint', 'pending', 'dead_letters', 'backfill', 'runtime', 'requests', 'sent'] as const;

export const NOT_SET_UP = 'not set up: run carecycle-sync setup';

/** The state tables missing from the state schema (empty when set up). */
export async function missingStateTables(state: StateDb | pg.Pool): Promise<string[]> {
  const pool = 'db' in state ? state.pool : state;
  const schema = 'db' in state ? state.schema : 'public';
  const r = await pool.query<{ t: string }>(
    `SELECT t FROM unnest($2::text[]) AS t WHERE to_regclass(format('%I.%I', $1::text, t)) IS NULL`,
    [schema, [...STATE_TABLES]],
  );
  return r.rows.map((row) => row.t);
}

/** Throws StateNotSetUpError naming the schema when the state tables are missing. */
export async function requireStateSetUp(state: StateDb): Promise<void> {
  const missing = await missingStateTables(state);
  if (missing.length > 0) throw new StateNotSetUpError(state.schema, missing);
}

export class StateNotSetUpError extends Error {
  override readonly name = 'StateNotSetUpError';
  constructor(
    readonly schema: string,
    readonly missing: string[],
  ) {
    super(`${NOT_SET_UP} (state schema "${schema}" has no table ${missing.join(', ')})`);
  }
}
