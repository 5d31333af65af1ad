import { describe, expect, it } from 'vitest';
import {
  classifyPgError,
  connectionOf,
  markConnection,
  onConnection,
  pgProblem,
  problemBackoffMs,
  sqlstateOf,
} from '../../src/pg/sqlstate.js';
import { PgProblemTracker } from '../../src/pg/problem-tracker.js';
import { silentLogger } from '../../src/log/logger.js';

/** What node-postgres throws: an Error with the SQLSTATE as `code`. */
const pgError = (code: string, message = `error ${code}`) => Object.assign(new Error(message), { code });

describe('the SQLSTATE table', () => {
  it.each([
    ['28P01', 'fix-config'],
    ['28000', 'fix-config'],
    ['42501', 'fix-config'],
    ['3D000', 'fix-config'],
    ['42P01', 'fix-config'],
    ['42704', 'fix-config'],
    ['55000', 'fix-config'],
    ['53300', 'retry'],
    ['57P01', 'retry'],
    ['57P02', 'retry'],
    ['57P03', 'retry'],
    ['08006', 'retry'],
    ['08P01', 'retry'],
    ['55006', 'retry'],
    ['40P01', 'retry'],
    ['42601', 'fatal'],
    ['22012', 'fatal'],
    ['XX001', 'fatal'],
    // A class the table does not name is retried, as every error was before.
    ['HV000', 'retry'],
  ])('%s → %s', (code, action) => {
    expect(classifyPgError(pgError(code)).action).toBe(action);
  });

  it('retries network errors, which carry no SQLSTATE', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', undefined]) {
      const err = Object.assign(new Error('connect failed'), { code });
      expect(classifyPgError(err)).toMatchObject({ action: 'retry', code: null });
    }
    expect(classifyPgError(new Error('Connection terminated unexpectedly')).action).toBe('retry');
  });

  it("finds the SQLSTATE in a wrapper's cause", () => {
    const wrapped = new Error('writing keys to the state database failed', { cause: pgError('42501') });
    expect(sqlstateOf(wrapped)).toBe('42501');
    expect(classifyPgError(wrapped).action).toBe('fix-config');
  });

  it('a problem names the connection, the SQLSTATE and the fix; none for an error to retry', () => {
    const p = pgProblem(pgError('28P01', 'password authentication failed for user "crm"'), 'replication');
    expect(p).toMatchObject({ severity: 'error', path: 'source.url', code: '28P01' });
    expect(p!.message).toBe('replication connection: password authentication failed for user "crm" (SQLSTATE 28P01 invalid_password)');
    expect(p!.fix).toContain('source.url');
    expect(pgProblem(pgError('42501'), 'state')).toMatchObject({ path: 'state.url', code: '42501' });
    expect(pgProblem(pgError('42501'), 'state')!.fix).toContain('carecycle-sync doctor');
    expect(pgProblem(pgError('57P01'), 'source')).toBeNull();
    expect(pgProblem(new Error('ECONNREFUSED'), 'source')).toBeNull();
  });

  it('backs off slowly, capped at 30 s', () => {
    expect([0, 1, 2, 3, 10, 100].map(problemBackoffMs)).toEqual([5000, 10_000, 20_000, 30_000, 30_000, 30_000]);
  });

  it('remembers the connection an error came from, through wrappers', async () => {
    const err = pgError('42501');
    await expect(onConnection('state', Promise.reject(err))).rejects.toBe(err);
    markConnection(err, 'source'); // the first origin wins
    expect(connectionOf(new Error('wrapped', { cause: err }), 'replication')).toBe('state');
    expect(connectionOf(new Error('unmarked'), 'replication')).toBe('replication');
  });
});

describe('PgProblemTracker', () => {
  it('keeps a problem until cleared, slows down while it lasts, and reports each change once', () => {
    const changes: unknown[] = [];
    const t = new PgProblemTracker({ log: silentLogger(), what: 'capture', onChange: (p) => changes.push(p?.code ?? null) });
    expect(t.failed(pgError('57P01'), 'source', 250)).toEqual({ problem: null, waitMs: 250 });
    expect(t.failed(pgError('28P01'), 'source', 250).waitMs).toBe(5000);
    expect(t.failed(pgError('28P01'), 'source', 250).waitMs).toBe(10_000);
    // A blip meanwhile does not prove the password fixed.
    expect(t.failed(new Error('ECONNRESET'), 'source', 250)).toMatchObject({ problem: { code: '28P01' }, waitMs: 250 });
    t.cleared('state.url');
    expect(t.problem?.code).toBe('28P01');
    t.cleared();
    expect(t.problem).toBeNull();
    expect(changes).toEqual(['28P01', null]);
  });
});
