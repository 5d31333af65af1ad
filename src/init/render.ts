import type { FieldSpec } from '../config/schema.js';
import type { FieldChoice } from './fields.js';
import type { Proposal, TableProposal } from './propose.js';
import { tableRef } from './tables.js';

/**
 * The proposal as a commented YAML config: every choice with its reason above it, the fields
 * left unmapped and the columns left out. Secrets never go in: the URL and the API key are
 * `${DATABASE_URL}` and `${CARECYCLE_API_KEY}`. Pure.
 */
export interface RenderInfo {
  database: string;
  schemas: readonly string[];
  sampleRows: number;
  at: Date;
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n', '~']);

/** A YAML scalar: plain when it is a plain identifier, else double-quoted (JSON strings are valid YAML). */
export function scalar(s: string): string {
  return PLAIN.test(s) && !RESERVED.has(s.toLowerCase()) ? s : JSON.stringify(s);
}

export function specYaml(spec: FieldSpec): string {
  if (typeof spec === 'string') return scalar(spec);
  if ('sql' in spec) return `{ sql: ${JSON.stringify(spec.sql)} }`;
  const parts = [`column: ${scalar(spec.column)}`];
  if (spec.transform) parts.push(`transform: ${spec.transform}`);
  if (spec.map)
    parts.push(
      `map: { ${Object.entries(spec.map)
        .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
        .join(', ')} }`,
    );
  return `{ ${parts.join(', ')} }`;
}

const comment = (indent: string, lines: readonly string[]): string[] => lines.map((l) => `${indent}# ${l}`);

function fieldLines(indent: string, choices: readonly FieldChoice[]): string[] {
  return choices.flatMap((c) => [...comment(indent, c.why), `${indent}${scalar(c.field)}: ${specYaml(c.spec)}`]);
}

function whereLines(t: TableProposal): string[] {
  if (!t.where?.length) return [];
  const sql = t.where.length === 1 ? t.where[0]!.sql : t.where.map((f) => `(${f.sql})`).join(' AND ');
  return [
    ...comment(
      '  ',
      t.where.map((f) => f.why),
    ),
    `  where: ${JSON.stringify(sql)}`,
  ];
}

function leftOut(t: TableProposal): string[] {
  const lines: string[] = [];
  const important = t.missing.filter((m) => m.considered.length > 0);
  for (const m of important) lines.push(`${m.field}: not mapped; considered ${m.considered.join(', ')}`);
  const none = t.missing.filter((m) => m.considered.length === 0).map((m) => m.field);
  if (none.length) lines.push(`no column found for: ${none.join(', ')}`);
  if (t.unmapped.length) lines.push(`columns not mapped: ${t.unmapped.join(', ')}`);
  return comment('  ', lines);
}

function customersLines(p: Proposal): string[] {
  const c = p.customers;
  const out = ['customers:', ...comment('  ', c.why), `  table: ${tableRef(c.table)}`, `  key: ${scalar(c.key)}`, ...whereLines(c)];
  out.push('  fields:', ...fieldLines('    ', c.fields));
  if (!c.fields.some((f) => f.field === 'externalId')) out.push(`    # externalId: the key ${c.key} (the default)`);
  if (c.customFields.length) out.push('  customFields:', ...fieldLines('    ', c.customFields));
  out.push(...leftOut(c));
  return out;
}

function policiesLines(p: Proposal): string[] {
  const t = p.policies;
  if (!t)
    return [
      '# policies: no table with a column pointing at the customers looks like policies; map one by hand (see docs/config-reference.md)',
    ];
  return [
    'policies:',
    ...comment('  ', t.why),
    `  table: ${tableRef(t.table)}`,
    `  key: ${scalar(t.key)}`,
    `  customerKey: ${scalar(t.customerKey)}`,
    ...whereLines(t),
    '  fields:',
    ...fieldLines('    ', t.fields),
    ...leftOut(t),
  ];
}

function watchLines(p: Proposal): string[] {
  if (p.watch.length === 0) return ['watch: []'];
  return [
    'watch:',
    ...p.watch.flatMap((w) => [`  # ${w.why}`, `  - table: ${tableRef(w.table)}`, `    customerKey: ${scalar(w.customerKey)}`]),
  ];
}

export function renderConfig(p: Proposal, info: RenderInfo): string {
  const lines = [
    `# carecycle-sync config proposed by \`carecycle-sync init\` on ${info.at.toISOString().slice(0, 10)}`,
    `# from database ${info.database} (schemas ${info.schemas.join(', ')}), sampling at most ${info.sampleRows.toLocaleString('en-US')} rows per table.`,
    '# Every choice below says why it was made. Review them, then run check-config, preview, setup and run.',
    '# Secrets stay out of this file: DATABASE_URL and CARECYCLE_API_KEY come from the environment.',
    'source:',
    '  url: ${DATABASE_URL}',
    '  slot: carecycle_sync',
    '  publication: carecycle_sync',
    'state:',
    '  schema: carecycle_sync',
    'carecycle:',
    '  baseUrl: ${CARECYCLE_BASE_URL:-https://api.carecycle.ai}',
    '  apiKey: ${CARECYCLE_API_KEY}',
    '  requestsPerMinute: 60',
    'sync:',
    '  onCustomerDelete: ignore',
    '  onPolicyDelete: Cancelled',
    '  dateFormat: MM-DD-YYYY',
    ...customersLines(p),
    ...policiesLines(p),
    ...watchLines(p),
    ...(p.skipped.length ? comment('', ['tables not used:', ...p.skipped.map((s) => `  ${s}`)]) : []),
  ];
  return `${lines.join('\n')}\n`;
}
