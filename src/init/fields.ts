import { ENUM_FIELDS } from '../carecycle/enums.js';
import type { FieldSpec } from '../config/schema.js';
import { quoteIdent } from '../pg/names.js';
import { fieldKind, kindTransform } from '../assemble/field-kinds.js';
import { nameScore } from './names.js';
import { count, DATE_TYPES, INTEGER_TYPES, NUMERIC_TYPES, percent, type ColumnProfile } from './profile.js';
import { looksLikeEnum, proposeEnumMap, type EnumProposal } from './enum-maps.js';
import type { Target } from './targets.js';

/**
 * Which column carries which ACA field: each column scored by its name (synonyms, see
 * ./names.ts) and by what its sampled values look like, then the best pairs taken greedily, one
 * column per field and one field per column. Each choice carries the config form (with the
 * transform or map that makes the values valid) and the sentence that explains it. Pure.
 */
export interface Candidate {
  column: ColumnProfile;
  score: number;
  /** 0 when only the values matched. */
  nameScore: number;
  synonym?: string;
  /** Share of sampled values with the field's shape (1 when the column's type says so). */
  fit: number;
  byType: boolean;
  enumMap?: EnumProposal;
  /** Why the name matched but the column was not taken. */
  rejected?: string;
}

export interface FieldChoice {
  field: string;
  column: string;
  spec: FieldSpec;
  /** Comment lines, most important first. */
  why: string[];
}

export interface FieldResult {
  chosen: FieldChoice[];
  /** Fields with no column, with the candidates considered and why they were not taken. */
  missing: Array<{ field: string; considered: string[] }>;
  usedColumns: Set<string>;
}

const SHAPE_NOUN: Record<string, string> = {
  phone: 'US phone numbers',
  date: 'dates',
  zip: 'ZIP or ZIP+4 codes',
  money: 'amounts of money',
  boolean: 'yes/no flags',
  state: 'two-letter US states',
  email: 'e-mail addresses',
  name: 'names',
  integer: 'whole numbers',
  zip4: 'ZIP+4 codes',
};

function shapeFit(target: Target, col: ColumnProfile): { fit: number; byType: boolean } {
  const s = target.shape;
  if (!s) return { fit: 1, byType: false };
  if (s === 'date' && DATE_TYPES.has(col.type)) return { fit: 1, byType: true };
  if (s === 'money' && NUMERIC_TYPES.has(col.type)) return { fit: 1, byType: true };
  if (s === 'integer' && INTEGER_TYPES.has(col.type)) return { fit: 1, byType: true };
  if (s === 'boolean' && col.type === 'boolean') return { fit: 1, byType: true };
  if (col.nonNull === 0) return { fit: 0.5, byType: false };
  // A ZIP in a numeric column has lost its leading zeros (2134); zip5 puts them back.
  if (s === 'zip' && INTEGER_TYPES.has(col.type)) return { fit: col.shapes.integer, byType: false };
  if (s === 'zip') return { fit: col.shapes.zip + col.shapes.zip4, byType: false };
  return { fit: col.shapes[s], byType: false };
}

/** How well `col` fits `target`, or undefined when neither its name nor its values say so. */
export function scoreColumn(target: Target, col: ColumnProfile): Candidate | undefined {
  const named = nameScore(col.name, target.synonyms);
  let { fit, byType } = shapeFit(target, col);
  let enumMap: EnumProposal | undefined;
  if (target.field in ENUM_FIELDS && col.nonNull > 0) {
    enumMap = proposeEnumMap(target.field, col.top);
    fit = enumMap.covered;
  }
  const base = {
    column: col,
    nameScore: named.score,
    fit,
    byType,
    ...(named.synonym ? { synonym: named.synonym } : {}),
    ...(enumMap ? { enumMap } : {}),
  };
  if (named.score === 0) {
    return target.byValues && col.nonNull > 0 && fit >= 0.9 ? { ...base, score: 0.35 * fit } : undefined;
  }
  if (enumMap && !looksLikeEnum(enumMap))
    return { ...base, score: 0, rejected: `only ${percent(enumMap.covered)} of its values are ${target.field} values` };
  if (target.shape && col.nonNull > 0 && fit < 0.5) {
    return {
      ...base,
      score: 0,
      rejected: `only ${percent(fit)} of ${count(col.nonNull)} sampled values look like ${SHAPE_NOUN[target.shape]}`,
    };
  }
  // A required field wants the column that is set most often: a sparse cell column loses to a full home phone.
  const fill = target.required && col.sampled > 0 ? col.nonNull / col.sampled : 1;
  return { ...base, score: 0.6 * named.score + 0.4 * fit * fill };
}

/** All columns that could carry `target`, best first (rejected ones last, with score 0). */
export function candidatesFor(target: Target, columns: readonly ColumnProfile[]): Candidate[] {
  return columns
    .map((c) => scoreColumn(target, c))
    .filter((c): c is Candidate => c !== undefined)
    .sort((a, b) => b.score - a.score || b.fit - a.fit);
}

function describeName(c: Candidate): string {
  if (c.nameScore === 0) return 'no name match, found by its values';
  return c.nameScore >= 0.9 ? `name reads "${c.synonym}"` : `name contains "${c.synonym}"`;
}

function describeValues(target: Target, c: Candidate): string | undefined {
  const col = c.column;
  if (c.byType) return `a ${col.type} column`;
  if (!target.shape || col.nonNull === 0) return undefined;
  return `${percent(c.fit)} of ${count(col.nonNull)} sampled values look like ${SHAPE_NOUN[target.shape]}`;
}

const TRANSFORM_FOR: Record<string, string> = { phone: 'phone', date: 'date', zip: 'zip5', money: 'money', boolean: 'boolean' };

function transformNote(transform: string, col: ColumnProfile): string {
  switch (transform) {
    case 'phone':
      return `transform phone sends (XXX) XXX-XXXX; formats seen: ${col.phoneFormats.slice(0, 5).join(', ') || 'none'}`;
    case 'zip5':
      return col.shapes.zip4 > 0
        ? `${percent(col.shapes.zip4)} are ZIP+4: transform zip5 sends the first 5 digits`
        : 'transform zip5 sends 5 digits';
    case 'date':
      return 'transform date sends MM-DD-YYYY';
    case 'money':
      return 'transform money sends "123.45"';
    case 'boolean':
      return `transform boolean reads ${
        col.top
          .slice(0, 4)
          .map((v) => JSON.stringify(v.value))
          .join('/') || 'true/false'
      }`;
    case 'upper':
      return 'transform upper: some values are lower case';
    default:
      return `transform ${transform}`;
  }
}

/** `CASE "col"::text WHEN 'M' THEN 'Male' … WHEN '9' THEN NULL ELSE "col"::text END` */
export function enumCaseSql(column: string, p: EnumProposal): string {
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const ref = `${quoteIdent(column)}::text`;
  const whens = [
    ...Object.entries(p.map).map(([k, v]) => `WHEN ${lit(k)} THEN ${lit(v)}`),
    ...p.unknown.map((k) => `WHEN ${lit(k)} THEN NULL`),
  ];
  return `CASE ${ref} ${whens.join(' ')} ELSE ${ref} END`;
}

function share(col: ColumnProfile, values: readonly string[]): string {
  return values
    .map((v) => `${JSON.stringify(v)} (${percent((col.top.find((t) => t.value === v)?.count ?? 0) / Math.max(1, col.nonNull))})`)
    .join(', ');
}

function enumChoice(field: string, col: ColumnProfile, p: EnumProposal, why: string[]): FieldSpec {
  why.push(`map built from the ${count(col.distinct)} distinct sampled values (${percent(p.covered)} of values covered)`);
  if (p.uncovered.length)
    why.push(`not covered by the map, so records with them are invalid until you add them: ${share(col, p.uncovered)}`);
  if (p.unknown.length === 0) return { column: col.name, map: p.map };
  why.push(
    `${share(col, p.unknown)} mean unknown: CareCycle has no such ${field} value, so the CASE sends none (change THEN NULL to a value to send one)`,
  );
  return { sql: enumCaseSql(col.name, p) };
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

function specFor(target: Target, c: Candidate, why: string[]): FieldSpec {
  const col = c.column;
  if (c.enumMap) return enumChoice(target.field, col, c.enumMap, why);
  const allowed = ENUM_FIELDS[target.field];
  if (allowed) why.push(`no sampled values, so no map: the values must already be one of ${allowed.join(', ')}`);
  if (!PLAIN_IDENTIFIER.test(col.name)) {
    // The config's column form takes plain identifiers only; the field's own kind still normalises the value.
    why.push('read through {sql} because the column name needs quoting');
    return { sql: quoteIdent(col.name) };
  }
  // Only the transform of the field's own JSON type: householdIncome is an integer even when its values look like money.
  const transform = target.shape ? TRANSFORM_FOR[target.shape] : undefined;
  if (transform && transform === kindTransform(fieldKind(target.field))) {
    why.push(transformNote(transform, col));
    return { column: col.name, transform: transform as 'phone' };
  }
  if (target.shape === 'state' && col.top.some((v) => v.value !== v.value.toUpperCase())) {
    why.push(transformNote('upper', col));
    return { column: col.name, transform: 'upper' };
  }
  return col.name;
}

function explain(target: Target, c: Candidate, others: Candidate[], owner: ReadonlyMap<string, string>): string[] {
  const col = c.column;
  const head = [describeName(c), describeValues(target, c)].filter(Boolean).join('; ');
  const why = [`${col.name}: ${head}`];
  if (col.sampled > 0 && col.nonNull / col.sampled < 0.95)
    why.push(`set in ${percent(col.nonNull / col.sampled)} of ${count(col.sampled)} sampled rows`);
  const alt = others.filter((o) => o.column !== col).slice(0, 3);
  if (alt.length)
    why.push(
      `other candidates: ${alt.map((o) => `${o.column.name} (${o.rejected ?? (owner.has(o.column.name) ? `taken by ${owner.get(o.column.name)}` : 'a weaker match')})`).join(', ')}`,
    );
  return why;
}

/** Picks one column per field (and per column one field), best score first. */
export function chooseFields(targets: readonly Target[], columns: readonly ColumnProfile[], exclude: ReadonlySet<string>): FieldResult {
  const usable = columns.filter((c) => !exclude.has(c.name));
  const all = new Map(targets.map((t) => [t.field, candidatesFor(t, usable)]));
  const pairs = targets.flatMap((t) =>
    all
      .get(t.field)!
      .filter((c) => c.score > 0)
      .map((c) => ({ t, c })),
  );
  pairs.sort((a, b) => b.c.score - a.c.score);
  const taken = new Map<string, Candidate>();
  const usedColumns = new Set<string>();
  for (const { t, c } of pairs) {
    if (taken.has(t.field) || usedColumns.has(c.column.name)) continue;
    taken.set(t.field, c);
    usedColumns.add(c.column.name);
  }
  const owner = new Map([...taken].map(([field, c]) => [c.column.name, field]));
  const chosen: FieldChoice[] = [];
  const missing: FieldResult['missing'] = [];
  for (const t of targets) {
    const c = taken.get(t.field);
    const others = all.get(t.field)!;
    if (!c) {
      missing.push({
        field: t.field,
        considered: others.map((o) => `${o.column.name} (${o.rejected ?? `taken by ${owner.get(o.column.name) ?? 'another field'}`})`),
      });
      continue;
    }
    const why = explain(t, c, others, owner);
    const fallback = t.field === 'phoneNumber' ? fallbackPhones(c, others, usedColumns) : [];
    const spec = fallback.length ? coalescePhones(c, fallback, why) : specFor(t, c, why);
    for (const f of fallback) usedColumns.add(f.column.name);
    chosen.push({ field: t.field, column: c.column.name, spec, why });
  }
  return { chosen, missing, usedColumns };
}

/**
 * CareCycle requires a phone. When the chosen phone column is often empty, other phone columns
 * fill the gaps in order (`coalesce(cell, home)`), instead of leaving those customers invalid.
 */
function fallbackPhones(best: Candidate, others: readonly Candidate[], used: ReadonlySet<string>): Candidate[] {
  const col = best.column;
  if (col.sampled === 0 || col.nonNull / col.sampled >= 0.95) return [];
  return others.filter((o) => o !== best && !o.rejected && o.nameScore > 0 && o.fit >= 0.8 && !used.has(o.column.name)).slice(0, 2);
}

function coalescePhones(best: Candidate, fallback: readonly Candidate[], why: string[]): FieldSpec {
  const names = [best, ...fallback].map((c) => c.column.name);
  why.push(
    `${best.column.name} is empty in ${percent(1 - best.column.nonNull / best.column.sampled)} of sampled rows: ${fallback.map((f) => f.column.name).join(', then ')} fills in; ` +
      'the phone transform applies to whichever is sent',
  );
  why.push(transformNote('phone', best.column));
  return { sql: `coalesce(${names.map((n) => `nullif(trim(${quoteIdent(n)}::text), '')`).join(', ')})` };
}
