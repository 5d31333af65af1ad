import type { CustomerPart } from './build.js';

/**
 * Pure decisions of sync.nullValues: clear. CareCycle keeps a field's stored value when the field
 * is omitted, and clears it on an explicit null. So a field the daemon last sent *with a value*
 * that is now NULL (or blank) in the CRM goes once as `null`; a field it never sent with a value
 * stays omitted, so nothing CareCycle got elsewhere (an agent's edit, a CSV import, a field
 * mapped only today) is erased.
 *
 * What the daemon remembers per customer is the list of fields it last sent with a value
 * ("valued"): customer fields by name, custom fields as `customFields.<key>`, and per policy its
 * policy field names. `null` means unknown (state written before this was remembered): every
 * mapped field that is empty now may hold a stale value, so every one of them is cleared.
 */
export const CUSTOM_PREFIX = 'customFields.';

/** Remembered "last sent with a value": a list, `null` unknown, `undefined` never sent. */
export type Valued = readonly string[] | null | undefined;

/** The fields of a customer part that carry a value (its keys, custom fields by key). */
export function valuedOfCustomer(customer: CustomerPart): string[] {
  const out: string[] = [];
  for (const k of Object.keys(customer)) {
    if (k === 'policies') continue;
    if (k === 'customFields') {
      for (const cf of customer.customFields ?? []) if (cf.value !== null) out.push(CUSTOM_PREFIX + cf.fieldKey);
    } else if (customer[k] !== null && customer[k] !== undefined) out.push(k);
  }
  return out;
}

/** The fields of a policy that carry a value. */
export function valuedOfPolicy(policy: object): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(policy)) if (v !== null && v !== undefined) out.push(k);
  return out;
}

/**
 * What to remember as valued after this send: the fields present now, plus those left out only
 * because their value was refused (sync.onInvalidOptional: omit) and that CareCycle still holds
 * from before (they were not cleared).
 */
export function rememberValued(present: readonly string[], omitted: readonly string[], previous: Valued): readonly string[] {
  if (omitted.length === 0 || previous === undefined) return present;
  const out = [...present];
  for (const f of omitted) if ((previous === null || previous.includes(f)) && !out.includes(f)) out.push(f);
  return out;
}

/**
 * Mapped fields to send as explicit null: absent now, not merely refused (`omitted`), and last
 * sent with a value (every one when that is unknown; none when the customer or policy was never
 * sent).
 */
export function fieldsToClear(
  mapped: readonly string[],
  present: readonly string[],
  previous: Valued,
  omitted: readonly string[] = [],
): string[] {
  if (previous === undefined) return [];
  const out: string[] = [];
  for (const f of mapped) {
    if (present.includes(f) || omitted.includes(f)) continue;
    if (previous === null || previous.includes(f)) out.push(f);
  }
  return out;
}

/** A copy of a customer part or policy with `null` for each field of `clear`. */
export function withNulls<T extends object>(obj: T, clear: readonly string[]): T {
  if (clear.length === 0) return obj;
  const out = { ...obj } as Record<string, unknown>;
  for (const f of clear) {
    if (f.startsWith(CUSTOM_PREFIX)) continue;
    out[f] = null;
  }
  const custom = clear.filter((f) => f.startsWith(CUSTOM_PREFIX)).map((f) => ({ fieldKey: f.slice(CUSTOM_PREFIX.length), value: null }));
  if (custom.length > 0) {
    const existing = (out.customFields as Array<{ fieldKey: string; value: string | null }> | undefined) ?? [];
    out.customFields = [...existing, ...custom];
  }
  return out as T;
}
