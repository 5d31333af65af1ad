/**
 * The pure rules of the mass-cancellation rail: how many policies a record would cancel or
 * terminate, the threshold, and which records of a batch to hold.
 */
import type { AssembleResult } from '../assemble/index.js';

/** Statuses that take a policy away from an agent's book. */
export const CANCELLING = new Set(['Cancelled', 'Terminated']);

/** Rolling window of the rail. */
export const SAFETY_WINDOW_MS = 15 * 60_000;

/**
 * Policies this result would cancel or terminate in CareCycle: the one-off sends of policies
 * that vanished (what the record carries beyond the customer's current policies), and current
 * policies whose status turns cancelling against what was last sent for them. A policy created
 * already cancelled cancels nothing CareCycle holds.
 */
export function cancellationsIn(r: AssembleResult, lastStatus: ReadonlyMap<string, string | null>): number {
  if (r.records.length === 0) return 0;
  const carried = r.records.reduce((n, rec) => n + (rec.policies?.length ?? 0), 0);
  if (r.verdict === 'deleted' || !r.commit) return carried;
  const oneOff = Math.max(0, carried - r.commit.policies.length);
  let turned = 0;
  for (const p of r.commit.policies) {
    if (p.status === null || !CANCELLING.has(p.status) || !lastStatus.has(p.policyKey)) continue;
    const before = lastStatus.get(p.policyKey);
    if (before === null || before === undefined || !CANCELLING.has(before)) turned++;
  }
  return oneOff + turned;
}

/** The threshold in force: null when the rail is off; by default the larger of 50 and 10 % of the active policies. */
export function safetyThreshold(setting: number | 'off' | undefined, activePolicies: number): number | null {
  if (setting === 'off') return null;
  if (typeof setting === 'number') return setting;
  return Math.max(50, Math.ceil(activePolicies * 0.1));
}

/**
 * Which records to hold, in batch order: a record is held when what it cancels would take the
 * window past the threshold; the ones before it go. Approved records always go and are not
 * counted.
 */
export function planHold(
  batch: ReadonlyArray<{ key: string; cancels: number; approved: boolean }>,
  windowSoFar: number,
  threshold: number | null,
): { held: Map<string, number>; counted: Map<string, number> } {
  const held = new Map<string, number>();
  const counted = new Map<string, number>();
  let running = windowSoFar;
  for (const b of batch) {
    if (b.cancels === 0 || b.approved) continue;
    if (threshold !== null && running + b.cancels > threshold) {
      held.set(b.key, b.cancels);
      continue;
    }
    running += b.cancels;
    counted.set(b.key, b.cancels);
  }
  return { held, counted };
}
