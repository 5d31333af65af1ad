import type { Config } from '../config/schema.js';
import { payloadHash, type MappingPlan } from '../assemble/index.js';

/**
 * The fingerprint of the mapping: everything that decides what a customer's record looks like,
 * as a flat map from config key path to a canonical value, and the sha256 of that map. It is
 * taken from the *resolved* mapping plan rather than the raw file, so a mapping by naming
 * convention (no `fields`) changes when a column appears in the CRM, a reordered YAML file does
 * not change it, and a column's type is part of it. Pure; docs/mapping-changes.md tells the story.
 */
export type MappingParts = Record<string, unknown>;

/**
 * `sync.*` keys that change how or when records travel, not what they contain: left out, so
 * tuning them does not re-assemble the book. Every other `sync` key (dates, nulls, time zones,
 * the delete rules…) is part of the fingerprint, including ones added later.
 */
export const OPERATIONAL_SYNC_KEYS: ReadonlySet<string> = new Set([
  'flushIntervalMs',
  'flushMaxKeys',
  'batchSize',
  'reconcileOnMappingChange',
  'safety',
]);

/** Plan properties whose config key path is not `<section>.<prop>`, or that say nothing new. */
const TABLE_PROPS_SKIPPED = new Set(['schema', 'name', 'section', 'fields', 'customFields', 'keyType', 'customerKeyType']);
const FIELD_PROPS_SKIPPED = new Set(['path', 'target', 'kind']);

function fieldPart(field: object, position?: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(field)) if (!FIELD_PROPS_SKIPPED.has(k) && v !== undefined) out[k] = v;
  // Custom fields are sent (and hashed) as an array in config order: a move is a change.
  if (position !== undefined) out.position = position;
  return out;
}

function tableParts(section: string, table: Record<string, unknown> & { schema: string; name: string }, out: MappingParts): void {
  out[`${section}.table`] = `${table.schema}.${table.name}`;
  for (const [k, v] of Object.entries(table)) if (!TABLE_PROPS_SKIPPED.has(k) && v !== undefined) out[`${section}.${k}`] = v;
  for (const f of (table.fields as Array<{ path: string }>) ?? []) out[f.path] = fieldPart(f);
  ((table.customFields as Array<{ path: string }> | undefined) ?? []).forEach((f, i) => {
    out[f.path] = fieldPart(f, i);
  });
}

function flatten(prefix: string, value: unknown, out: MappingParts): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v, out);
  } else if (value !== undefined) {
    out[prefix] = value;
  }
}

/** The fingerprinted parts of a resolved mapping and the config's record-shaping `sync` keys. */
export function mappingParts(plan: MappingPlan, sync: Config['sync']): MappingParts {
  const out: MappingParts = {};
  tableParts('customers', plan.customers as unknown as Record<string, unknown> & { schema: string; name: string }, out);
  if (plan.policies) tableParts('policies', plan.policies as unknown as Record<string, unknown> & { schema: string; name: string }, out);
  for (const [k, v] of Object.entries(sync)) if (!OPERATIONAL_SYNC_KEYS.has(k)) flatten(`sync.${k}`, v, out);
  // The plan's own settings (dateFormat today) come from `sync`; any other is kept under `plan.`.
  for (const [k, v] of Object.entries(plan)) {
    if (k !== 'customers' && k !== 'policies' && !(k in sync)) flatten(`plan.${k}`, v, out);
  }
  return out;
}

/** sha256 of the canonical JSON of the parts (key order does not matter). */
export function fingerprintOf(parts: MappingParts): string {
  return payloadHash(parts);
}

/** Key paths added, removed or different between two sets of parts, sorted. */
export function changedParts(before: MappingParts, after: MappingParts): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => payloadHash(before[k] ?? null) !== payloadHash(after[k] ?? null)).sort();
}

export interface MappingDecision {
  /** Store the current fingerprint (first run, or it changed). */
  store: boolean;
  /** Request a reconcile of every customer. */
  reconcile: boolean;
  /** Config key paths that changed (empty on the first run). */
  changed: string[];
  firstRun: boolean;
}

/**
 * What `run` does at start: the first run (nothing stored) only stores the fingerprint (the
 * initial backfill sends everything anyway); a different one is stored and, unless
 * sync.reconcileOnMappingChange is off, reconciled.
 */
export function decideMappingChange(
  stored: { fingerprint: string; parts: MappingParts } | undefined,
  parts: MappingParts,
  reconcileOnChange: boolean,
): MappingDecision {
  if (!stored) return { store: true, reconcile: false, changed: [], firstRun: true };
  if (stored.fingerprint === fingerprintOf(parts)) return { store: false, reconcile: false, changed: [], firstRun: false };
  return { store: true, reconcile: reconcileOnChange, changed: changedParts(stored.parts ?? {}, parts), firstRun: false };
}
