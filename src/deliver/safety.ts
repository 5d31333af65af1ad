/**
 * The mass-cancellation rail (sync.safety.maxCancellations): a TRUNCATE, a bad migration, a
 * wrong `where` or a buggy job can cancel a whole book in one go, and agents and AI callers act
 * on what CareCycle shows. Records that would cancel more policies within 15 minutes than the
 * threshold are held in `pending` (sql/migrations/004_safety.sql) while every other record
 * flows; `carecycle-sync approve` releases them, and a held record that no longer cancels
 * anything when it is assembled again (the CRM was fixed) goes by itself.
 */
import type { AssembleResult } from '../assemble/index.js';
import type { Logger } from '../log/logger.js';
import { countActivePolicies, lastSentStatuses } from '../queue/sent-reads.js';
import { countHeld, holdKeys, releaseHeld } from '../queue/held.js';
import type { StateDb } from '../state/db.js';
import { patchRuntime } from '../state/runtime.js';
import { cancellationsIn, CANCELLING, planHold, safetyThreshold, SAFETY_WINDOW_MS } from './safety-rules.js';

export const SAFETY_DOC = 'safety';
/** How often a held record is assembled again, to see whether it still cancels anything. */
export const HELD_RECHECK_MS = 30_000;

export interface ClaimFlags {
  key: string;
  approved?: boolean;
  held?: boolean;
}

export interface SafetyVerdict {
  /** Held keys → policies they would cancel. */
  held: Map<string, number>;
  /** Keys that go and count against the window → policies they cancel. */
  counted: Map<string, number>;
}

export interface Safety {
  check(results: readonly AssembleResult[], claimed: readonly ClaimFlags[]): Promise<SafetyVerdict>;
  /** Keeps held keys pending (rechecked later) and says so loudly. */
  hold(verdict: SafetyVerdict, claimed: readonly ClaimFlags[]): Promise<void>;
  /** After the batch settled: count what it cancelled, and clear the hold of keys that went. */
  sent(verdict: SafetyVerdict, delivered: ReadonlySet<string>, claimed: readonly ClaimFlags[]): Promise<void>;
}

export function createSafety(state: StateDb, setting: number | 'off' | undefined, log: Logger): Safety {
  let active: { n: number; at: number } | null = null;
  const activePolicies = async () => {
    if (active && Date.now() - active.at < 30_000) return active.n;
    active = { n: await countActivePolicies(state, [...CANCELLING]), at: Date.now() };
    return active.n;
  };

  async function lastStatuses(results: readonly AssembleResult[]): Promise<Map<string, string | null>> {
    const keys = results.flatMap((r) =>
      r.records.length && r.commit
        ? r.commit.policies.filter((p) => p.status !== null && CANCELLING.has(p.status)).map((p) => p.policyKey)
        : [],
    );
    if (keys.length === 0) return new Map();
    return lastSentStatuses(state, keys);
  }

  return {
    async check(results, claimed) {
      const none: SafetyVerdict = { held: new Map(), counted: new Map() };
      if (setting === 'off') return none;
      const last = await lastStatuses(results);
      const approved = new Set(claimed.filter((c) => c.approved).map((c) => c.key));
      const batch = results.map((r) => ({ key: r.key, cancels: cancellationsIn(r, last), approved: approved.has(r.key) }));
      if (batch.every((b) => b.cancels === 0 || b.approved)) return none;
      const w = await state.pool.query<{ n: number }>(
        `WITH trimmed AS (DELETE FROM cancellations_sent WHERE at < now() - interval '1 hour')
         SELECT coalesce(sum(policies), 0)::int AS n FROM cancellations_sent WHERE at > now() - $1::int * interval '1 millisecond'`,
        [SAFETY_WINDOW_MS],
      );
      return planHold(batch, w.rows[0]!.n, safetyThreshold(setting, await activePolicies()));
    },

    async hold(verdict) {
      if (verdict.held.size === 0) return;
      await holdKeys(state, verdict.held, HELD_RECHECK_MS);
      const { customers, policies } = await countHeld(state);
      const reason = `records would cancel or terminate ${policies} policies within 15 minutes, more than sync.safety.maxCancellations allows`;
      await patchRuntime(state, SAFETY_DOC, { reason }).catch(() => undefined);
      log.error(
        { heldCustomers: customers, heldPolicies: policies },
        `MASS CANCELLATION HELD: ${reason}. ${customers} customers wait in the queue (nothing is lost; everything else keeps flowing). ` +
          'If the CRM is right, run `carecycle-sync approve --yes`; if not, restore the rows and they are released by themselves.',
      );
    },

    async sent(verdict, delivered, claimed) {
      const n = [...verdict.counted].filter(([k]) => delivered.has(k)).reduce((a, [, c]) => a + c, 0);
      if (n > 0) await state.pool.query('INSERT INTO cancellations_sent (policies) VALUES ($1)', [n]);
      const released = claimed.filter((c) => c.held && !verdict.held.has(c.key)).map((c) => c.key);
      if (released.length) {
        await releaseHeld(state, released);
        log.warn({ released: released.length }, 'held records no longer cancel anything (or were approved): sent');
      }
    },
  };
}
