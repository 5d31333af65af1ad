/**
 * The delivery loop's side of the settle: sorts a batch's verdicts into the rows
 * src/queue/settle.ts writes in one round trip, and counts them.
 */
import type { Commit } from '../assemble/index.js';
import type { Claimed } from '../queue/claim.js';
import type { Lease } from '../queue/lease.js';
import { restoreAfter } from '../queue/restore.js';
import { settleRows, type SettleRows } from '../queue/settle.js';
import type { StateDb } from '../state/db.js';
import type { KeyVerdict } from './verdicts.js';

export interface SettleCounts {
  delivered: number;
  skipped: number;
  deadLettered: number;
  /** Of those dead-lettered, how many CareCycle refused (the rest failed local validation). */
  rejectedByApi: number;
  /** Policies CareCycle terminated by itself while these were delivered (src/queue/restore.ts). */
  autoTerminated: number;
  /** Rows kept because they were re-queued while in flight. */
  requeued: number;
  /** The lease was no longer current: nothing was recorded (see `leaveForHolder`). */
  fenced?: boolean;
}

/** Records a batch's verdicts (src/queue/settle.ts); `oldestInFlight` is passed through. */
export async function settle(
  state: StateDb,
  claimed: readonly Claimed[],
  verdicts: readonly KeyVerdict[],
  lease: Lease,
  oldestInFlight: string,
): Promise<SettleCounts> {
  const version = new Map(claimed.map((c) => [c.key, c.version]));
  const plan = settlePlan(verdicts);
  const removed = await settleRows(state, settleRowsOf(plan, version), lease, oldestInFlight);
  if (removed === null) return { ...NOTHING, fenced: true };
  return { ...plan.counts, requeued: verdicts.length - removed };
}

const NOTHING: SettleCounts = { delivered: 0, skipped: 0, deadLettered: 0, rejectedByApi: 0, autoTerminated: 0, requeued: 0 };

/** Pure: the rows of a settle. A customer to restore stays pending and goes once more (src/queue/restore.ts). */
export function settleRowsOf(plan: ReturnType<typeof settlePlan>, version: ReadonlyMap<string, string>): SettleRows {
  const restore = new Set(plan.restore);
  const keys = plan.keys.filter((k) => !restore.has(k));
  return {
    dead: plan.dead.map((d) => ({ k: d.key, payload: d.payload ?? null, reason: d.reason, path: d.fieldPath, status: d.httpStatus })),
    sent: plan.commits
      .filter((c) => c.commit.hash !== null)
      .map((c) => ({ k: c.key, h: c.commit.hash!, r: c.restore, i: c.commit.identity, v: c.commit.valued ?? null })),
    policies: plan.commits.flatMap((c) =>
      c.commit.policies.map((p) => ({ p: p.policyKey, c: c.key, i: p.identifiers, s: p.status, v: p.valued ?? null })),
    ),
    forget: plan.commits.flatMap((c) => c.commit.forgetPolicies.map((p) => [c.key, p] as const)),
    resolved: plan.resolvedKeys,
    remove: { keys, versions: keys.map((k) => version.get(k) ?? '-1') },
    restoreLive: plan.restore,
  };
}

type Dead = Extract<KeyVerdict, { kind: 'dead' }>;
type Committed = { key: string; commit: Commit; restore: boolean };

/** Pure: sorts verdicts into the statements' inputs. */
export function settlePlan(verdicts: readonly KeyVerdict[]) {
  const dead: Dead[] = [];
  const commits: Committed[] = [];
  /** Keys whose dead letter is moot: delivered now, or unchanged since the last delivery. */
  const resolvedKeys: string[] = [];
  /** Delivered keys after which CareCycle terminated policies by itself, to be sent once more. */
  const restore: string[] = [];
  const counts = { delivered: 0, skipped: 0, deadLettered: 0, rejectedByApi: 0, autoTerminated: 0 };
  const keys = verdicts.map((v) => v.key);
  for (const v of verdicts) {
    if (v.kind === 'dead') {
      dead.push(v);
      counts.deadLettered++;
      if (v.httpStatus !== null) counts.rejectedByApi++;
      continue;
    }
    const commit = v.result.commit;
    if (v.kind === 'delivered') counts.autoTerminated += v.autoTerminated.length;
    const restoring = v.result.restoring === true;
    const again = v.kind === 'delivered' && restoreAfter({ ...v, restoring, createdPolicies: v.createdPolicies ?? 0 });
    const restoreIt = again && !!commit?.hash;
    if (restoreIt) restore.push(v.key);
    if (commit) commits.push({ key: v.key, commit, restore: restoreIt });
    if (v.kind === 'delivered') counts.delivered++;
    else counts.skipped++;
    // A customer fixed back to exactly what CareCycle already holds is in step again.
    if (v.kind === 'delivered' || v.reason === 'unchanged') resolvedKeys.push(v.key);
  }
  return { dead, commits, resolvedKeys, restore, counts, keys };
}
