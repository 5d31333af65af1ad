import { z } from 'zod';
import { columnField, configSchema, sqlField } from '../config/schema.js';
import { CUSTOMER_FIELDS, ENUM_FIELDS, POLICY_FIELDS } from '../carecycle/enums.js';

/**
 * The config reference (docs/config-reference.md), generated from the one zod schema's
 * `.describe()` texts, defaults and constraints, so the documentation cannot drift from what
 * the loader accepts. `npm run docs:config` writes it; a unit test fails when the committed
 * file differs from what this renders.
 */

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
}

export interface ReferenceRow {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
}

const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_$]*$';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const toJson = (schema: z.ZodType): JsonSchema => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** A short human type: `integer (1–100)`, `` `a` \| `b` ``, `SQL identifier`, `list of objects`. */
export function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (s.anyOf) return 'column name, {column, transform, map, default} or {sql}';
  const t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (t === 'string') {
    if (s.format === 'uri') return 'URL';
    if (s.pattern === IDENTIFIER) return 'SQL identifier';
    if (s.pattern?.includes('\\.)?')) return 'table name';
    if (s.pattern?.startsWith('^cc_')) return 'string starting with `cc_`';
    return 'string';
  }
  if (t === 'integer' || t === 'number') {
    const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? `>${s.exclusiveMinimum}` : undefined);
    const hi = s.maximum !== undefined && s.maximum < MAX_SAFE ? s.maximum : undefined;
    if (lo === undefined && hi === undefined) return t;
    if (typeof lo === 'string' && hi === undefined) return `${t} ${lo}`;
    return `${t} (${lo ?? '…'}–${hi ?? '…'})`;
  }
  if (t === 'array') return s.items?.properties ? 'list of objects' : `list of ${typeOf(s.items ?? {})}`;
  if (t === 'object' && !s.properties && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return `map of name → ${typeOf(s.additionalProperties)}`;
  }
  return t;
}

/** Every key of the schema, depth first, in declaration order. */
export function referenceRows(root: JsonSchema = toJson(configSchema), prefix = ''): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  for (const [key, s] of Object.entries(root.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const required = (root.required ?? []).includes(key) && s.default === undefined;
    const nested = s.properties ? s : s.items?.properties ? s.items : undefined;
    const isSection = nested !== undefined;
    if (!isSection || s.description) {
      rows.push({
        path: s.items?.properties ? `${path}[]` : path,
        type: typeOf(s),
        required,
        ...(s.default !== undefined && !isSection ? { default: s.default } : {}),
        description: s.description ?? '',
      });
    }
    if (nested) rows.push(...referenceRows(nested, s.items?.properties ? `${path}[]` : path));
  }
  return rows;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const showDefault = (v: unknown) => (v === undefined ? '' : `\`${JSON.stringify(v)}\``);

function table(rows: ReferenceRow[]): string[] {
  const out = ['| key | type | default | description |', '| --- | --- | --- | --- |'];
  for (const r of rows) {
    const desc = `${r.required ? '**Required.** ' : ''}${r.description}`;
    // enum types are already escaped by typeOf
    out.push(`| \`${r.path}\` | ${r.type} | ${cell(showDefault(r.default))} | ${cell(desc)} |`);
  }
  return out;
}

function fieldList(names: readonly string[]): string {
  return names.map((n) => (ENUM_FIELDS[n] ? `\`${n}\` (${ENUM_FIELDS[n]!.map((v) => `\`${v}\``).join(', ')})` : `\`${n}\``)).join(', ');
}

/** The environment variables named in the descriptions (`(env X)` or `env X or Y`). */
export function environmentRows(rows: ReferenceRow[]): Array<{ variable: string; path: string }> {
  const out: Array<{ variable: string; path: string }> = [];
  for (const r of rows) {
    const m = /\(env ([^)]*)\)/.exec(r.description);
    if (!m) continue;
    for (const v of m[1]!.match(/[A-Z][A-Z0-9_]{2,}/g) ?? []) out.push({ variable: v, path: r.path });
  }
  return out;
}

export function renderConfigReference(): string {
  const rows = referenceRows();
  const sections = new Map<string, ReferenceRow[]>();
  for (const r of rows) {
    const top = r.path.split(/[.[]/)[0]!;
    sections.set(top, [...(sections.get(top) ?? []), r]);
  }
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` from src/config/schema.ts. Do not edit by hand: change the',
    '     `.describe()` texts there and run the script again (a unit test checks this file is current). -->',
    '',
    'The config file is YAML. `${VAR}` and `${VAR:-default}` are replaced from the environment before',
    'validation; unknown keys are errors. `carecycle-sync check-config` prints the effective config with',
    'secrets redacted. Environment variables override the file:',
    '',
    '| variable | overrides |',
    '| --- | --- |',
    '| `CARECYCLE_SYNC_CONFIG` | the config file path (default `config/carecycle-sync.yaml`; `--config` wins) |',
    ...environmentRows(rows).map((e) => `| \`${e.variable}\` | \`${e.path}\` |`),
    '',
  ];
  for (const [name, sectionRows] of sections) lines.push(`## \`${name}\``, '', ...table(sectionRows), '');
  lines.push(
    '## Field forms',
    '',
    'Each entry of `customers.fields`, `customers.customFields` and `policies.fields` is one of:',
    '',
    '* a column name: the value of that column, unchanged;',
    '* an object:',
    '',
    ...table(referenceRows(toJson(columnField))),
    '',
    '* an SQL expression:',
    '',
    ...table(referenceRows(toJson(sqlField))),
    '',
    `Customer fields: ${fieldList(CUSTOMER_FIELDS)}.`,
    '',
    `Policy fields: ${fieldList(POLICY_FIELDS)}.`,
    '',
  );
  return lines.join('\n');
}
