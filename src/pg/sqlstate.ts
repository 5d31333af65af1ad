import type { Problem } from '../errors.js';

/**
 * The one table of what the daemon does with a Postgres error, decided by its SQLSTATE (never by
 * its message). Codes and class names are those of the PostgreSQL manual, Appendix A "PostgreSQL
 * Error Codes" (https://www.postgresql.org/docs/current/errcodes-appendix.html); the first two
 * characters of a code are its class.
 *
 * * `retry`: it goes away by itself (the server restarts, a connection dropped, a lock or a
 *   connection slot frees up). The loops retry with their usual backoff.
 * * `fix-config`: it stays until someone changes the configuration or the database (a wrong
 *   password, a missing grant, database, table, slot or publication). The loops still retry, since
 *   the operator may fix the grant without restarting, but slowly (`problemBackoffMs`), and the
 *   problem is logged once at error level and shown by `/readyz` and `status` with its fix.
 * * `fatal`: the statement itself is wrong or the data is corrupt; neither waiting nor a setting
 *   changes the answer. Shown like `fix-config`, with "report it" as the fix. No loop exits on
 *   it: a restart would meet the same statement, and capture going on keeps WAL from piling up.
 *
 * An error without an SQLSTATE (ECONNREFUSED, ECONNRESET, ETIMEDOUT, "Connection terminated
 * unexpectedly") is a network failure: `retry`. So is a code of a class the table does not name:
 * that was the daemon's rule for every error before this table, and nothing says it is permanent.
 */

export type PgErrorAction = 'retry' | 'fix-config' | 'fatal';

/** The connection an error came from, as `/readyz` and `status` name it. */
export type PgConnectionName = 'source' | 'state' | 'replication';

interface Rule {
  action: PgErrorAction;
  /** The condition name of the manual's table. */
  condition: string;
  /** What to do, for the connection the error came from (fix-config and fatal only). */
  fix?: (c: PgConnectionName) => string;
}

const urlKey = (c: PgConnectionName) => (c === 'state' ? 'state.url (STATE_DATABASE_URL)' : 'source.url (DATABASE_URL)');
const REPORT = () => 'this is a bug or a damaged database, not a setting: report it with the log line';
const SETUP = (c: PgConnectionName) =>
  c === 'state'
    ? 'run `carecycle-sync setup` (it creates the state tables)'
    : 'run `carecycle-sync setup`, or correct the config to name what exists';

/** Specific codes first: they override their class. */
const CODES: Readonly<Record<string, Rule>> = {
  // Class 28: the server refuses the login. Only a new password, role or pg_hba.conf line helps.
  '28P01': {
    action: 'fix-config',
    condition: 'invalid_password',
    fix: (c) => `the password in ${urlKey(c)} is wrong: correct it there, or set the role's password to it (ALTER ROLE … PASSWORD)`,
  },
  '28000': {
    action: 'fix-config',
    condition: 'invalid_authorization_specification',
    fix: (c) =>
      `the server does not let the role of ${urlKey(c)} log in: check that the role exists and has LOGIN${c === 'replication' ? ' and REPLICATION' : ''}, and that pg_hba.conf admits it from this host`,
  },
  // A grant is missing (SELECT on a mapped table, USAGE on the state schema, REPLICATION).
  '42501': {
    action: 'fix-config',
    condition: 'insufficient_privilege',
    fix: (c) =>
      `grant the role of ${urlKey(c)} what it lacks${c === 'replication' ? ' (ALTER ROLE … REPLICATION)' : ''}: \`carecycle-sync setup --print-sql\` lists the grants and \`carecycle-sync doctor\` names the missing one`,
  },
  '3D000': {
    action: 'fix-config',
    condition: 'invalid_catalog_name',
    fix: (c) => `the database named in ${urlKey(c)} does not exist: correct the URL or create the database`,
  },
  '57P04': {
    action: 'fix-config',
    condition: 'database_dropped',
    fix: (c) => `the database named in ${urlKey(c)} was dropped: correct the URL or restore the database`,
  },
  '3F000': { action: 'fix-config', condition: 'invalid_schema_name', fix: SETUP },
  '42P01': { action: 'fix-config', condition: 'undefined_table', fix: SETUP },
  // A replication slot or publication that does not exist (the slot-loss rules handle a slot
  // capture finds missing before it streams; this is the stream's own answer).
  '42704': { action: 'fix-config', condition: 'undefined_object', fix: SETUP },
  // wal_level below logical, an invalidated slot: the server is not in the state replication needs.
  '55000': {
    action: 'fix-config',
    condition: 'object_not_in_prerequisite_state',
    fix: () => '`carecycle-sync doctor` names the server setting or slot state to change',
  },
  // The mapping no longer matches the CRM's tables (or the state tables are older than this version).
  '42703': { action: 'fix-config', condition: 'undefined_column', fix: SETUP },
  '42883': { action: 'fix-config', condition: 'undefined_function', fix: SETUP },
  '42804': { action: 'fix-config', condition: 'datatype_mismatch', fix: SETUP },
  // A slot still held by the walsender of a connection that just dropped: it frees up by itself.
  '55006': { action: 'retry', condition: 'object_in_use' },
  '55P03': { action: 'retry', condition: 'lock_not_available' },
  // Every connection slot taken: others disconnect, and then this one gets in.
  '53300': { action: 'retry', condition: 'too_many_connections' },
  // A server shutting down, crashing or starting up: it comes back.
  '57P01': { action: 'retry', condition: 'admin_shutdown' },
  '57P02': { action: 'retry', condition: 'crash_shutdown' },
  '57P03': { action: 'retry', condition: 'cannot_connect_now' },
  '57014': { action: 'retry', condition: 'query_canceled' },
  '57P05': { action: 'retry', condition: 'idle_session_timeout' },
  XX000: { action: 'retry', condition: 'internal_error' },
};

const CLASSES: Readonly<Record<string, Rule>> = {
  '08': { action: 'retry', condition: 'connection_exception' },
  '28': CODES['28000']!,
  '3D': CODES['3D000']!,
  '3F': CODES['3F000']!,
  // A failover can leave the URL on a standby for a while (read_only_sql_transaction).
  '25': { action: 'retry', condition: 'invalid_transaction_state' },
  // Serialization failures and deadlocks: the manual says to retry the transaction.
  '40': { action: 'retry', condition: 'transaction_rollback' },
  // A unique or foreign-key race between two writers: the retry sees the winner's row.
  '23': { action: 'retry', condition: 'integrity_constraint_violation' },
  '53': { action: 'retry', condition: 'insufficient_resources' },
  '55': { action: 'retry', condition: 'object_not_in_prerequisite_state' },
  '57': { action: 'retry', condition: 'operator_intervention' },
  '58': { action: 'retry', condition: 'system_error' },
  '42': { action: 'fatal', condition: 'syntax_error_or_access_rule_violation', fix: REPORT },
  '21': { action: 'fatal', condition: 'cardinality_violation', fix: REPORT },
  '22': { action: 'fatal', condition: 'data_exception', fix: REPORT },
  '0A': { action: 'fatal', condition: 'feature_not_supported', fix: REPORT },
  '54': { action: 'fatal', condition: 'program_limit_exceeded', fix: REPORT },
  P0: { action: 'fatal', condition: 'plpgsql_error', fix: REPORT },
  XX: { action: 'fatal', condition: 'internal_error', fix: REPORT },
};

const NETWORK: Rule = { action: 'retry', condition: 'no SQLSTATE: a network or connection failure' };
const UNKNOWN: Rule = { action: 'retry', condition: 'a class this table does not name' };

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of an error or of one of its causes (wrappers keep the original as `cause`). */
export function sqlstateOf(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && SQLSTATE.test(code)) return code;
  }
  return null;
}

export interface PgErrorVerdict {
  action: PgErrorAction;
  code: string | null;
  condition: string;
}

/** Pure: what to do with this error. */
export function classifyPgError(err: unknown): PgErrorVerdict {
  const code = sqlstateOf(err);
  const rule = ruleFor(code);
  return { action: rule.action, code, condition: rule.condition };
}

function ruleFor(code: string | null): Rule {
  if (code === null) return NETWORK;
  return CODES[code] ?? CLASSES[code.slice(0, 2)] ?? UNKNOWN;
}

/**
 * The problem an operator has to fix, or null when the error is one to retry quietly. The
 * message names the connection and the SQLSTATE; `path` is the config key of that connection.
 */
export function pgProblem(err: unknown, connection: PgConnectionName): Problem | null {
  const code = sqlstateOf(err);
  const rule = ruleFor(code);
  if (rule.action === 'retry' || code === null) return null;
  const text = err instanceof Error ? err.message : String(err);
  return {
    severity: 'error',
    path: connection === 'state' ? 'state.url' : 'source.url',
    message: `${connection} connection: ${text} (SQLSTATE ${code} ${rule.condition})`,
    fix: rule.fix?.(connection) ?? REPORT(),
    code,
  };
}

/**
 * The delay before the next attempt while a problem only a person can fix persists: 5 s, then
 * doubling up to 30 s, so a corrected grant or password is picked up within half a minute
 * without hammering the server (or its authentication log) meanwhile.
 */
export function problemBackoffMs(attempt: number): number {
  return Math.min(30_000, 5_000 * 2 ** Math.max(0, Math.min(attempt, 10)));
}

const origins = new WeakMap<object, PgConnectionName>();

/**
 * Runs `work` and, when it fails, remembers which connection the error came from (its first
 * origin wins), so the loop that catches it far away can name the connection without reading
 * the message.
 */
export async function onConnection<T>(connection: PgConnectionName, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof work === 'function' ? work() : work);
  } catch (err) {
    markConnection(err, connection);
    throw err;
  }
}

export function markConnection(err: unknown, connection: PgConnectionName): void {
  if (err && typeof err === 'object' && !origins.has(err)) origins.set(err, connection);
}

/** The connection an error (or one of its causes) was marked with, else `fallback`. */
export function connectionOf(err: unknown, fallback: PgConnectionName): PgConnectionName {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const c = origins.get(e);
    if (c) return c;
  }
  return fallback;
}
