/**
 * A quick "valid" for strict-object schemas of the contract, used before the full zod parse.
 *
 * Why: a whole-object parse runs every field of the shape, present or not (an ACA policy has
 * 54), copies the object, and then checks for unknown keys; in the delivery loop that was the
 * largest cost per record. Records are sparse (a dozen fields set), so this runs the contract's
 * *own* field schemas on the keys the object actually has, and nothing else.
 *
 * It only ever answers "valid" or "not sure": `false` sends the caller to the full parse, which
 * produces the issues with their paths and messages. So it may be stricter than zod but never
 * more lenient, and anything it does not understand (a check kind, a non-strict object, an
 * async refinement) makes it answer `false`. test/carecycle/quick-check.test.ts compares it
 * with zod on valid and broken records.
 *
 * It reads zod's core API (`_zod.def`, `_zod.run`), stable within the pinned zod 4.
 */
import type { z } from 'zod';

type Check = (value: unknown) => boolean;
type Def = {
  type: string;
  innerType?: Schema;
  element?: Schema;
  checks?: Array<{ _zod: { def: Record<string, unknown> } }>;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  entries?: Record<string, unknown>;
};
type Schema = { _zod: { def: Def; run(payload: { value: unknown; issues: unknown[] }, ctx: { async: false }): unknown } };

const CTX = { async: false } as const;
const never: Check = () => false;

/** Runs one schema as zod would inside a parse; a Promise (async check) counts as not sure. */
function runs(schema: Schema): Check {
  return (value) => {
    const r = schema._zod.run({ value, issues: [] }, CTX) as { issues: unknown[] } | Promise<unknown>;
    return !(r instanceof Promise) && r.issues.length === 0;
  };
}

/** Array bounds from its checks; undefined if a check is of a kind we do not know. */
function arrayBounds(def: Def): { min: number; max: number } | undefined {
  let min = 0;
  let max = Infinity;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'max_length' && typeof d.maximum === 'number') max = Math.min(max, d.maximum);
    else if (d.check === 'min_length' && typeof d.minimum === 'number') min = Math.max(min, d.minimum);
    else return undefined;
  }
  return { min, max };
}

/**
 * The plain value checks the contract uses, done directly: a string with length and regex
 * checks, an enum, a boolean. Exactly zod's own tests (typeof, `.length`, `pattern.test`, set
 * membership), without its per-call payload objects. Undefined for anything else (a refinement,
 * a number format, an unknown check kind): that field runs its zod schema instead.
 */
function plainCheck(def: Def): Check | undefined {
  if (def.type === 'boolean' && !def.checks?.length) return (v) => typeof v === 'boolean';
  if (def.type === 'enum' && !def.checks?.length) {
    const values = new Set(Object.values((def as { entries?: Record<string, unknown> }).entries ?? {}));
    return (v) => values.has(v);
  }
  if (def.type !== 'string') return undefined;
  let min = 0;
  let max = Infinity;
  const patterns: RegExp[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'max_length' && typeof d.maximum === 'number') max = Math.min(max, d.maximum);
    else if (d.check === 'min_length' && typeof d.minimum === 'number') min = Math.max(min, d.minimum);
    else if (d.check === 'length_equals' && typeof d.length === 'number') {
      min = Math.max(min, d.length);
      max = Math.min(max, d.length);
    } else if (d.check === 'string_format' && d.format === 'regex' && d.pattern instanceof RegExp) patterns.push(d.pattern);
    else return undefined;
  }
  return (v) => {
    if (typeof v !== 'string' || v.length < min || v.length > max) return false;
    for (const p of patterns) {
      p.lastIndex = 0;
      if (!p.test(v)) return false;
    }
    return true;
  };
}

/**
 * A field's check: optional/nullable unwrapped, then a plain check, or an array of strict
 * objects checked element by element with objectCheck, or else the field's own zod schema.
 */
function fieldCheck(schema: Schema): Check {
  let def = schema._zod.def;
  let nullable = false;
  let optional = false;
  while (def.type === 'optional' || def.type === 'nullable') {
    if (def.type === 'optional') optional = true;
    else nullable = true;
    def = def.innerType!._zod.def;
  }
  const wrap =
    (inner: Check): Check =>
    (value) =>
      value === undefined ? optional : value === null ? nullable : inner(value);
  const plain = plainCheck(def);
  if (plain) return wrap(plain);
  if (def.type !== 'array' || def.element?._zod.def.type !== 'object') return runs(schema);
  const bounds = arrayBounds(def);
  const element = objectCheck(def.element);
  if (!bounds) return never;
  return wrap((value) => {
    if (!Array.isArray(value) || value.length < bounds.min || value.length > bounds.max) return false;
    for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
    return true;
  });
}

/**
 * True when `value` is a plain object that `schema` (a strict object) accepts unchanged:
 * only known keys, each accepted by its field schema, every required key present, and each
 * of `refinements` true. The schema's own refinements must be exactly those given (counted),
 * so adding one to the contract without adding it here fails loudly at startup.
 */
export function objectCheck(
  schema: Schema | z.ZodType,
  refinements: ReadonlyArray<(value: Record<string, unknown>) => boolean> = [],
): Check {
  const s = schema as Schema;
  const def = s._zod.def;
  if (def.type !== 'object' || !def.shape || def.catchall?._zod.def.type !== 'never') return never;
  const ownChecks = def.checks?.length ?? 0;
  if (ownChecks !== refinements.length) {
    throw new Error(`quick check: the schema has ${ownChecks} refinement(s) and ${refinements.length} were given`);
  }
  const fields = new Map<string, Check>();
  const required: string[] = [];
  for (const [key, field] of Object.entries(def.shape)) {
    fields.set(key, fieldCheck(field));
    if (!runs(field)(undefined)) required.push(key);
  }
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype)
      return false;
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const check = fields.get(key);
      if (check === undefined || !Object.hasOwn(obj, key) || !check(obj[key])) return false;
    }
    for (const key of required) if (!Object.hasOwn(obj, key)) return false;
    for (const r of refinements) if (!r(obj)) return false;
    return true;
  };
}
