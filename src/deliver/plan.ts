/**
 * Pure batching decisions. `planWaves`: records sharing an externalId (a customer with more
 * than 10 policies, split by the assembler) never share a request, and go in successive waves
 * so two requests for one customer are never in flight together (they could race into two
 * customers on the server). `splitPlan`: how to break a batch the API refused as a whole.
 */
import type { AcaRecord } from '../carecycle/schema.js';
import type { ValidationIssue } from '../carecycle/schema.js';

/** Waves (sent one after another) of batches (sent concurrently) of item indices. */
export type WavePlan = number[][][];

export function planWaves(records: readonly Pick<AcaRecord, 'externalId'>[], maxPerRequest: number): WavePlan {
  const seen = new Map<string, number>();
  const waves: number[][] = [];
  const loners: number[] = [];
  records.forEach((r, i) => {
    if (!r.externalId) {
      // Without an externalId the API's error entries cannot be matched to a record: alone.
      loners.push(i);
      return;
    }
    const n = seen.get(r.externalId) ?? 0;
    seen.set(r.externalId, n + 1);
    (waves[n] ??= []).push(i);
  });
  const plan = waves.map((w) => chunk(w, maxPerRequest));
  if (loners.length > 0) (plan[0] ??= []).push(...loners.map((i) => [i]));
  return plan;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Sub-batches to try after a whole-request 400/422 on `batch` (item indices). When the API's
 * issue paths name records (`['records', i, …]`), those go alone and the rest together: one
 * round instead of log2(n). Otherwise, halves. A batch of one cannot be split: `[]`.
 * Every returned group is smaller than `batch`, so repeated splitting ends.
 */
export function splitPlan(batch: readonly number[], issues: readonly ValidationIssue[]): number[][] {
  if (batch.length <= 1) return [];
  const named = new Set<number>();
  for (const issue of issues) {
    const [head, idx] = issue.path;
    if (head === 'records' && typeof idx === 'number' && Number.isInteger(idx) && idx >= 0 && idx < batch.length) named.add(idx);
  }
  if (named.size > 0 && named.size < batch.length) {
    const rest = batch.filter((_, pos) => !named.has(pos));
    return [rest, ...[...named].sort((a, b) => a - b).map((pos) => [batch[pos] as number])];
  }
  const mid = Math.ceil(batch.length / 2);
  return [batch.slice(0, mid), batch.slice(mid)];
}
