import type { Config, FieldSpec } from '../config/schema.js';
import type { Problem } from '../errors.js';
import { CUSTOMER_FIELDS, ENUM_FIELDS, MAX_CUSTOM_FIELDS_PER_RECORD, POLICY_FIELDS } from '../carecycle/enums.js';
import type { AcaValue, DateFormat } from './transforms.js';
import { enumNoun, fieldKind, type FieldKind } from './field-kinds.js';
import { coerce, mapKey, type FieldPlan } from './values.js';
import { quoteIdent, splitTable } from '../pg/names.js';
import type { MappingCatalog, MappingTable } from './catalog.js';

/**
 * The config's mapping (docs/config-reference.md), resolved against the catalog into a plan the
 * query builder and the record builder use. Every problem is reported with its config key path, so
 * a wrong name fails at startup (exit 2) instead of at the first change.
 */
export interface TablePlan {
  schema: string;
  name: string;
  /** Config section, for messages: `customers` or `policies`. */
  section: string;
  key: string;
  keyType: string;
  where?: string;
  fields: FieldPlan[];
}
export interface CustomerPlan extends TablePlan {
  customFields: FieldPlan[];
}
export interface PolicyPlan extends TablePlan {
  customerKey: string;
  customerKeyType: string;
}
export interface MappingPlan {
  customers: CustomerPlan;
  policies?: PolicyPlan;
  dateFormat: DateFormat;
  /** sync.policyDateFormat when set; policy dates use dateFormat otherwise. */
  policyDateFormat?: DateFormat;
  /** sync.timeZone: the zone whose day a timestamptz mapped to a date takes. */
  timeZone: string;
}

/** `firstName` → `first_name`, `doNotSMS` → `do_not_sms`, `address2` → `address2`. */
export function snakeCase(field: string): string {
  return field
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** Without `fields`: each ACA field whose snake_case name is a column of the table. */
export function conventionFields(names: readonly string[], table: MappingTable): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = {};
  for (const f of names) {
    const col = snakeCase(f);
    if (table.columns.has(col)) out[f] = col;
  }
  return out;
}

interface Ctx {
  problems: Problem[];
  dateFormat: DateFormat;
  policyDateFormat: DateFormat;
  relaxedMaps: boolean;
}

const problem = (ctx: Ctx, path: string, message: string) => ctx.problems.push({ severity: 'error', path, message });

function lookupTable(catalog: MappingCatalog, name: string, path: string, ctx: Ctx): MappingTable | undefined {
  const t = catalog.table(name);
  if (!t) {
    const { schema, name: rel } = splitTable(name);
    problem(ctx, path, `table ${schema}.${rel} does not exist (or is not visible to this user)`);
  }
  return t;
}

function columnType(table: MappingTable, column: string, path: string, ctx: Ctx): string | undefined {
  const c = table.columns.get(column);
  if (!c) problem(ctx, path, `column "${column}" does not exist in ${table.schema}.${table.name}`);
  return c?.type;
}

/** Checks a value the config promises for an ACA field (a map target or a default). */
function checkTarget(target: string, kind: FieldKind, value: AcaValue, path: string, ctx: Ctx): void {
  const allowed = ENUM_FIELDS[target];
  if (allowed && !allowed.includes(String(value))) {
    problem(ctx, path, `${JSON.stringify(value)} is not a ${enumNoun(target)}; expected one of ${allowed.join(', ')}`);
    return;
  }
  const r = coerce(kind, value, { dateFormat: path.startsWith('policies.') ? ctx.policyDateFormat : ctx.dateFormat });
  if (!r.ok) problem(ctx, path, r.reason);
}

function resolveField(target: string, spec: FieldSpec, kind: FieldKind, path: string, table: MappingTable, ctx: Ctx): FieldPlan {
  if (typeof spec === 'string') {
    const sqlType = columnType(table, spec, path, ctx);
    return { target, path, kind, column: spec, expr: quoteIdent(spec), ...(sqlType ? { sqlType } : {}) };
  }
  if ('sql' in spec) return { target, path, kind, expr: `(${spec.sql})` };
  const sqlType = columnType(table, spec.column, `${path}.column`, ctx);
  for (const [from, to] of Object.entries(spec.map ?? {})) checkTarget(target, kind, to, `${path}.map.${from}`, ctx);
  if (spec.default !== undefined) checkTarget(target, kind, spec.default, `${path}.default`, ctx);
  const plan: FieldPlan = { target, path, kind, column: spec.column, expr: quoteIdent(spec.column) };
  if (sqlType) plan.sqlType = sqlType;
  if (spec.transform) plan.transform = spec.transform;
  if (spec.map) {
    plan.map = spec.map;
    if (ctx.relaxedMaps) {
      plan.map = relaxedMap(spec.map, `${path}.map`, ctx);
      plan.mapRelaxed = true;
    }
  }
  if (spec.default !== undefined) plan.default = spec.default;
  return plan;
}

/** A map with normalised keys (sync.mapMatching: relaxed); two keys that become one are a problem. */
function relaxedMap(map: Readonly<Record<string, string>>, path: string, ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    const n = mapKey(k);
    if (Object.hasOwn(out, n) && out[n] !== v) {
      problem(
        ctx,
        path,
        `${JSON.stringify(from[n])} and ${JSON.stringify(k)} are the same key when case and spaces are ignored (sync.mapMatching: relaxed) but map to different values`,
      );
    }
    out[n] = v;
    from[n] = k;
  }
  return out;
}

function resolveFields(
  names: readonly string[],
  given: Record<string, FieldSpec> | undefined,
  section: string,
  table: MappingTable,
  ctx: Ctx,
): FieldPlan[] {
  const specs = given ?? conventionFields(names, table);
  return Object.entries(specs).map(([target, spec]) =>
    resolveField(target, spec, fieldKind(target), `${section}.fields.${target}`, table, ctx),
  );
}

function requireMapped(plan: TablePlan, wanted: string[], ctx: Ctx, what: string, conventional: boolean): void {
  const mapped = new Set(plan.fields.map((f) => f.target));
  const missing = wanted.filter((f) => !mapped.has(f));
  if (missing.length === 0) return;
  const how = conventional ? ` (no \`fields\`, and no column named ${missing.map(snakeCase).join(' or ')})` : '';
  problem(ctx, `${plan.section}.fields`, `${missing.join(', ')} not mapped${how}; ${what}`);
}

function resolveCustomers(config: Config, catalog: MappingCatalog, ctx: Ctx): CustomerPlan | undefined {
  const c = config.customers;
  const table = lookupTable(catalog, c.table, 'customers.table', ctx);
  if (!table) return undefined;
  const keyType = columnType(table, c.key, 'customers.key', ctx) ?? 'text';
  const fields = resolveFields(CUSTOMER_FIELDS, c.fields, 'customers', table, ctx);
  const customFields = Object.entries(c.customFields ?? {}).map(([k, spec]) =>
    resolveField(k, spec, 'string', `customers.customFields.${k}`, table, ctx),
  );
  if (customFields.length > MAX_CUSTOM_FIELDS_PER_RECORD) {
    problem(
      ctx,
      'customers.customFields',
      `${customFields.length} custom fields; CareCycle accepts at most ${MAX_CUSTOM_FIELDS_PER_RECORD}`,
    );
  }
  const plan: CustomerPlan = { schema: table.schema, name: table.name, section: 'customers', key: c.key, keyType, fields, customFields };
  if (c.where) plan.where = c.where;
  const conventional = c.fields === undefined;
  for (const f of ['firstName', 'lastName', 'phoneNumber'])
    requireMapped(plan, [f], ctx, 'CareCycle requires firstName, lastName and phoneNumber', conventional);
  if (!plan.fields.some((f) => f.target === 'postalCode' || f.target === 'timezone')) {
    requireMapped(plan, ['postalCode'], ctx, 'CareCycle requires postalCode or timezone (TCPA)', conventional);
  }
  return plan;
}

function resolvePolicies(config: Config, catalog: MappingCatalog, ctx: Ctx): PolicyPlan | undefined {
  const p = config.policies;
  if (!p) return undefined;
  const table = lookupTable(catalog, p.table, 'policies.table', ctx);
  if (!table) return undefined;
  const keyType = columnType(table, p.key, 'policies.key', ctx) ?? 'text';
  const customerKeyType = columnType(table, p.customerKey, 'policies.customerKey', ctx) ?? 'text';
  const fields = resolveFields(POLICY_FIELDS, p.fields, 'policies', table, ctx);
  const plan: PolicyPlan = {
    schema: table.schema,
    name: table.name,
    section: 'policies',
    key: p.key,
    keyType,
    customerKey: p.customerKey,
    customerKeyType,
    fields,
  };
  if (p.where) plan.where = p.where;
  if (!fields.some((f) => f.target === 'healthSherpaPolicyId' || f.target === 'carrierAssignedPolicyId')) {
    const how = p.fields === undefined ? ' (no `fields`, and no column health_sherpa_policy_id or carrier_assigned_policy_id)' : '';
    problem(
      ctx,
      'policies.fields',
      `neither healthSherpaPolicyId nor carrierAssignedPolicyId is mapped${how}; CareCycle matches policies by them, so every re-send would create a duplicate`,
    );
  }
  return plan;
}

function checkWatch(config: Config, catalog: MappingCatalog, ctx: Ctx): void {
  config.watch.forEach((w, i) => {
    const table = lookupTable(catalog, w.table, `watch[${i}].table`, ctx);
    if (table) columnType(table, w.customerKey, `watch[${i}].customerKey`, ctx);
  });
}

/**
 * Resolves the mapping against the catalog. `problems` lists every wrong table, column, enum
 * target or missing required field, each prefixed by its key path; `plan` is set only when the
 * tables themselves exist (the SQL checks of ./check.ts need it).
 */
export function resolveMapping(config: Config, catalog: MappingCatalog): { plan?: MappingPlan; problems: Problem[] } {
  const sync = config.sync;
  const policyDateFormat = sync.policyDateFormat ?? sync.dateFormat;
  const ctx: Ctx = { problems: [], dateFormat: sync.dateFormat, policyDateFormat, relaxedMaps: sync.mapMatching === 'relaxed' };
  const customers = resolveCustomers(config, catalog, ctx);
  const policies = resolvePolicies(config, catalog, ctx);
  checkWatch(config, catalog, ctx);
  if (!customers || (config.policies && !policies)) return { problems: ctx.problems };
  const plan: MappingPlan = { customers, dateFormat: sync.dateFormat, timeZone: sync.timeZone ?? 'UTC' };
  if (sync.policyDateFormat) plan.policyDateFormat = sync.policyDateFormat;
  if (policies) plan.policies = policies;
  return { plan, problems: ctx.problems };
}

/** Tables the mapping reads, for the catalog reader. */
export function mappedTables(config: Config): string[] {
  return [config.customers.table, ...(config.policies ? [config.policies.table] : []), ...config.watch.map((w) => w.table)];
}
