import type { Transform } from '../config/schema.js';
import { applyTransform, type AcaValue, type TransformOptions, type TransformResult } from './transforms.js';
import { kindTransform, type FieldKind } from './field-kinds.js';

/** One mapped field, resolved against the catalog (see ./mapping.ts). */
export interface FieldPlan {
  /** ACA field name, or the custom field key. */
  target: string;
  /** Config key path, for messages: `customers.fields.gender`. */
  path: string;
  /** SQL expression over the mapped table: a quoted column or a parenthesised `{sql}`. */
  expr: string;
  column?: string;
  /** The column's type (`format_type`), when the field is a column. */
  sqlType?: string;
  transform?: Transform;
  map?: Readonly<Record<string, string>>;
  /** sync.mapMatching relaxed: `map`'s keys are normalised (see mapKey) and so is each value looked up. */
  mapRelaxed?: boolean;
  default?: AcaValue;
  kind: FieldKind;
}

/** The lookup key of a relaxed map: case and whitespace ignored (`" In  Force "` → `inforce`). */
export const mapKey = (v: string): string => v.replace(/\s+/g, '').toLowerCase();

/** True for text that counts as NULL: empty or whitespace only (only text starting with a space can be). */
export const isBlank = (raw: string): boolean => raw.length === 0 || (/^\s/.test(raw) && raw.trim() === '');

/**
 * CRM text → ACA value, in the order a user reads the config: NULL (or blank text, which counts
 * as NULL, so an identifier is never sent as "") takes the default; otherwise the transform,
 * then the map (so `upper` + `{M: Male}` accepts "m"); finally the value is coerced to the
 * field's JSON type (boolean, integer, date, money). A failure names the reason.
 */
export function mapValue(field: FieldPlan, raw: string | null, opts: TransformOptions): TransformResult {
  if (raw === null || isBlank(raw))
    return field.default === undefined ? { ok: true, value: null } : coerce(field.kind, field.default, opts);
  let value: AcaValue | null = raw;
  if (field.transform) {
    const r = applyTransform(field.transform, value, opts);
    if (!r.ok || r.value === null) return r.ok && field.default !== undefined ? coerce(field.kind, field.default, opts) : r;
    // The field's own kind transform is idempotent: coercing its output again changes nothing.
    if (field.map === undefined && field.transform === kindTransform(field.kind)) return r;
    value = r.value;
  }
  if (field.map) {
    const key = field.mapRelaxed ? mapKey(String(value)) : String(value);
    const mapped = Object.hasOwn(field.map, key) ? field.map[key] : undefined;
    if (mapped === undefined) {
      const known = Object.keys(field.map)
        .map((k) => JSON.stringify(k))
        .join(', ');
      const how = field.mapRelaxed ? ', case and spaces ignored' : '';
      return { ok: false, reason: `${JSON.stringify(String(value))} has no entry in ${field.path}.map (known: ${known}${how})` };
    }
    value = mapped;
  }
  return coerce(field.kind, value, opts);
}

/** Coerces a value to the JSON type of its field; the kind transforms are idempotent. */
export function coerce(kind: FieldKind, value: AcaValue, opts: TransformOptions): TransformResult {
  const t = kindTransform(kind);
  if (t) return applyTransform(t, value, opts);
  return { ok: true, value: typeof value === 'string' ? value : String(value) };
}
