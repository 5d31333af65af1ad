import type { AssembleResult } from '../assemble/index.js';
import { summarize } from '../assemble/preview.js';

/**
 * The preview of a sample, summed up: how many sampled customers would be valid, and the most
 * common reasons for the rest, each with the config key path to edit. Pure.
 */
export interface ReasonGroup {
  /** Record path with policy indexes dropped: `phoneNumber`, `policies[].status`. */
  path: string;
  /** The config key to edit, e.g. `customers.fields.phoneNumber`. */
  configPath: string;
  /** The reason with quoted values replaced by "…". */
  reason: string;
  example: string;
  customers: number;
}

export interface PreviewTally {
  customers: number;
  valid: number;
  invalid: number;
  /** Outside customers.where (or gone): not counted either way. */
  outside: number;
  reasons: ReasonGroup[];
}

const CONFIG_PATH = /\(((?:customers|policies)\.(?:fields|customFields)\.[A-Za-z0-9_]+)\)/;

/** `policies[3].status` → `policies[].status`. */
export const genericPath = (path: string): string => path.replace(/\[\d+\]/g, '[]');

/** The key path a record issue points at: the one named in the reason, else derived from the record path. */
export function configPathOf(path: string, reason: string): string {
  const named = CONFIG_PATH.exec(reason)?.[1] ?? /((?:customers|policies)\.fields\.[A-Za-z0-9_]+)\.map/.exec(reason)?.[1];
  if (named) return named;
  const m = /^policies\[\d+\]\.([A-Za-z0-9_]+)/.exec(path);
  if (m) return `policies.fields.${m[1]}`;
  if (/^policies\[\d+\]$/.test(path)) return 'policies.fields';
  if (path.startsWith('customFields.')) return `customers.customFields.${path.slice('customFields.'.length)}`;
  return path ? `customers.fields.${path.split('.')[0]}` : 'customers.fields';
}

const template = (reason: string): string =>
  reason
    .replace(/"[^"]*"/g, '"…"')
    .replace(/policy \S+ has/, 'a policy has')
    .replace(/\s*\((?:customers|policies)\.[^)]*\)$/, '');

/** The contract's wording for a missing value, in the words of someone reading the CRM. */
const humane = (reason: string): string =>
  /received undefined$/.test(reason) ? 'required, but the mapped column is empty in this row' : reason;

export function tallyPreview(results: readonly AssembleResult[], top = 5): PreviewTally {
  const groups = new Map<string, ReasonGroup>();
  // Counted as `preview` counts; nothing was sent before, so nothing is `unchanged`.
  const s = summarize(results);
  for (const r of results) {
    if (r.verdict !== 'invalid') continue;
    const seen = new Set<string>();
    for (const i of r.issues) {
      const path = genericPath(i.path);
      const reason = template(i.reason);
      const id = `${path}\u0000${reason}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const g = groups.get(id) ?? { path, configPath: configPathOf(i.path, i.reason), reason, example: humane(i.reason), customers: 0 };
      g.customers++;
      groups.set(id, g);
    }
  }
  const reasons = [...groups.values()].sort((a, b) => b.customers - a.customers || (a.path < b.path ? -1 : 1)).slice(0, top);
  return { customers: s.customers, valid: s.valid + s.unchanged, invalid: s.invalid, outside: s.deleted, reasons };
}

/** Valid share among the customers inside customers.where. */
export const validShare = (t: PreviewTally): number => (t.valid + t.invalid === 0 ? 0 : t.valid / (t.valid + t.invalid));
