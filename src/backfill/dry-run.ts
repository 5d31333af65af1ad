/**
 * `backfill --dry-run`: every matching customer is assembled as a backfill would, in keyset pages
 * of the CRM, without sending or writing anything, and counted as would-change, unchanged or
 * invalid. The state keeps only a hash of each last send, so *which* fields change is found by
 * assembling the same rows a second time with the mapping `run` last started with (stored with
 * its fingerprint) and comparing the two records. When that previous record's hash equals the
 * last sent hash, the comparison is exactly what a send would change; when it does not, the
 * CRM row changed since the last send as well, which is counted under its own heading.
 */
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { createAssembler, type AssembleResult, type MappingPlan, type SentState, type SentStateReader } from '../assemble/index.js';
import type { Logger } from '../log/logger.js';
import { matchesLastSend } from '../queue/restore.js';
import { readChunk } from './enqueue.js';
import { deliveryEtaMs } from './eta.js';
import { resolveKeyset } from './keyset.js';
import { CRM_CHANGED, diffRecords, NEVER_SENT, NO_PREVIOUS, type FieldChange } from './record-diff.js';

export const DRY_RUN_PAGE = 500;
const EXAMPLES = 3;

export interface DryRunExample {
  key: string;
  changes: FieldChange[];
}

export interface DryRunReport {
  customers: number;
  changed: number;
  unchanged: number;
  invalid: number;
  /** Field path → customers whose record changes in that field. */
  fields: Record<string, number>;
  /** Records the changed customers would send (a customer with >10 policies sends several). */
  records: number;
  /** Delivery time of those records at the request budget. */
  etaMs: number;
  examples: DryRunExample[];
  /** Invalid customers' first problems (key, path, reason), a few. */
  invalidExamples: Array<{ key: string; path: string; reason: string }>;
}

/** One customer's pair of assemblies, with what was last sent. */
export interface DryRunItem {
  current: AssembleResult;
  previous?: AssembleResult;
  sent?: SentState;
}

export function emptyReport(): DryRunReport {
  return { customers: 0, changed: 0, unchanged: 0, invalid: 0, fields: {}, records: 0, etaMs: 0, examples: [], invalidExamples: [] };
}

/** Which field paths a changed customer counts under (see the file comment). Pure. */
export function changedPaths(item: DryRunItem): FieldChange[] {
  if (!item.sent?.hash) return [{ path: NEVER_SENT, before: undefined, after: undefined }];
  if (!item.previous) return [{ path: NO_PREVIOUS, before: undefined, after: undefined }];
  const before = item.previous.verdict === 'invalid' ? (item.previous.payload ?? []) : item.previous.records;
  const diff = diffRecords(before as object[], item.current.records);
  const exact = matchesLastSend(item.sent, item.previous.commit?.hash ?? null);
  return exact ? diff : [...diff, { path: CRM_CHANGED, before: undefined, after: undefined }];
}

/** Adds one customer to the report. Pure (mutates `report`). */
export function tally(report: DryRunReport, item: DryRunItem): void {
  const { current } = item;
  report.customers++;
  if (current.verdict === 'invalid') {
    report.invalid++;
    const first = current.issues[0];
    if (report.invalidExamples.length < EXAMPLES && first)
      report.invalidExamples.push({ key: current.key, path: first.path, reason: first.reason });
    return;
  }
  if (current.records.length === 0) {
    report.unchanged++;
    return;
  }
  report.changed++;
  report.records += current.records.length;
  const changes = changedPaths(item);
  for (const c of changes) report.fields[c.path] = (report.fields[c.path] ?? 0) + 1;
  if (report.examples.length < EXAMPLES) report.examples.push({ key: current.key, changes });
}

/** Remembers the sends read for a page, so both assemblies see the same (and read it once). */
function pageReader(inner: SentStateReader): {
  current: SentStateReader;
  previous: SentStateReader;
  sent(key: string): SentState | undefined;
} {
  let cache: { id: string; map: Promise<Map<string, SentState>> } | undefined;
  const read = (keys: readonly string[]) => {
    const id = keys.join('\u0000');
    if (cache?.id !== id) cache = { id, map: inner.read(keys) };
    return cache.map;
  };
  let last = new Map<string, SentState>();
  return {
    current: { read: async (keys) => (last = await read(keys)) },
    // Without the hash, the previous assembly always returns its records (never "unchanged").
    previous: { read: async (keys) => new Map([...(await read(keys))].map(([k, s]) => [k, { ...s, hash: null }])) },
    sent: (key) => last.get(key),
  };
}

export interface DryRunOptions {
  config: Config;
  crm: pg.Pool;
  plan: MappingPlan;
  /** The mapping `run` last started with, if any. */
  previousPlan?: MappingPlan;
  sent: SentStateReader;
  where?: string | null;
  pageSize?: number;
  signal?: AbortSignal;
  log?: Logger;
  onPage?: (report: DryRunReport) => void;
}

export async function dryRunBackfill(o: DryRunOptions): Promise<DryRunReport & { previousUsable: boolean }> {
  const src = await resolveKeyset(o.crm, o.config, o.where ?? null);
  const reader = pageReader(o.sent);
  const current = createAssembler({ config: o.config, crm: o.crm, plan: o.plan, state: reader.current });
  let previous = o.previousPlan
    ? createAssembler({ config: o.config, crm: o.crm, plan: o.previousPlan, state: reader.previous })
    : undefined;
  const report = emptyReport();
  const limit = Math.max(1, o.pageSize ?? DRY_RUN_PAGE);
  for (let cursor: string | null = null; !o.signal?.aborted;) {
    const keys = await readChunk(o.crm, src, cursor, limit);
    if (keys.length === 0) break;
    const results = await current.assemble(keys);
    const before = previous
      ? await previous.assemble(keys).catch((err: Error) => {
          // The previous mapping may name a column that is gone: compare with nothing then.
          o.log?.warn({ err: err.message }, 'the previous mapping cannot be assembled any more; fields are not compared');
          previous = undefined;
          return undefined;
        })
      : undefined;
    const prevByKey = new Map((before ?? []).map((r) => [r.key, r]));
    for (const r of results) tally(report, { current: r, previous: prevByKey.get(r.key), sent: reader.sent(r.key) });
    o.onPage?.(report);
    cursor = keys[keys.length - 1]!;
    if (keys.length < limit) break;
  }
  report.etaMs = deliveryEtaMs(report.records, o.config.carecycle.requestsPerMinute, o.config.sync.batchSize);
  return { ...report, previousUsable: previous !== undefined };
}
