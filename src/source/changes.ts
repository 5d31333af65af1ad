import type { Config } from '../config/schema.js';
import { qualifiedName } from '../pg/names.js';

/**
 * Which customers a row change touches (docs/architecture.md, "Source"): pure functions over the
 * decoded change. Values arrive as Postgres' text output (the stream installs identity parsers), so
 * a key is its canonical text whatever its type: bigint stays "9007199254740993", a date stays
 * "2024-02-29".
 */

export type TableRole = 'customers' | 'policies' | 'watch';

export interface TableRoute {
  role: TableRole;
  /** `schema.table`. */
  table: string;
  /** Column holding the customer key: customers.key, policies.customerKey or watch[i].customerKey. */
  customerColumn: string;
  /** Policies only: the policy key column, to resolve the customer through sent_policies. */
  policyColumn?: string;
  /** Config key paths of the columns, for error messages. */
  paths: Record<string, string>;
}

/** Routes by `schema.table` for every table the config watches. */
export function buildRoutes(config: Config): Map<string, TableRoute> {
  const routes = new Map<string, TableRoute>();
  const c = config.customers;
  routes.set(qualifiedName(c.table), {
    role: 'customers',
    table: qualifiedName(c.table),
    customerColumn: c.key,
    paths: { [c.key]: 'customers.key' },
  });
  const p = config.policies;
  if (p) {
    routes.set(qualifiedName(p.table), {
      role: 'policies',
      table: qualifiedName(p.table),
      customerColumn: p.customerKey,
      policyColumn: p.key,
      paths: { [p.customerKey]: 'policies.customerKey', [p.key]: 'policies.key' },
    });
  }
  config.watch.forEach((w, i) => {
    const t = qualifiedName(w.table);
    if (!routes.has(t))
      routes.set(t, { role: 'watch', table: t, customerColumn: w.customerKey, paths: { [w.customerKey]: `watch[${i}].customerKey` } });
  });
  return routes;
}

export interface RelationShape {
  schema: string;
  name: string;
  columns: ReadonlyArray<{ name: string }>;
  replicaIdentity?: 'default' | 'nothing' | 'full' | 'index';
  /** The replica identity's columns (what an update that changes them, or a delete, carries). */
  keyColumns?: readonly string[];
}

/**
 * `movesUnseen`: a side table whose updates carry no old row with the customer key (not
 * REPLICA IDENTITY FULL, and the key column not in the identity). An update that moves such a
 * row to another customer re-sends the new customer only; capture counts those updates.
 */
export type Binding = { route: TableRoute; movesUnseen?: boolean; keyLost?: KeyLost } | { route: null };

/**
 * A configured key column is gone from a watched table (renamed or dropped). Capture does not
 * stop over it: a change it cannot reduce to a customer re-sends every customer ever sent from
 * that table (as a TRUNCATE does), so nothing is confirmed unattributed; those records fail to
 * assemble and wait as dead letters naming the config key until the config is fixed.
 */
export interface KeyLost {
  column: string;
  path: string;
  message: string;
  /** Policies only: the policy key column is still there, so its customer is resolved through what was sent. */
  byPolicyKey: boolean;
}

/**
 * Binds a Relation message (sent before the first change of a table and again after every
 * ALTER) to its route. A table we do not watch gets route null; a watched table that lost a
 * configured column gets `keyLost` (see KeyLost).
 */
export function bindRelation(routes: ReadonlyMap<string, TableRoute>, rel: RelationShape): Binding {
  const route = routes.get(`${rel.schema}.${rel.name}`);
  if (!route) return { route: null };
  const names = new Set(rel.columns.map((c) => c.name));
  for (const [column, path] of Object.entries(route.paths)) {
    if (!names.has(column)) {
      const message =
        `${path}: column ${route.table}.${column} no longer exists (renamed or dropped?); its columns are now: ${[...names].join(', ')}. ` +
        `Correct ${path} in the config and restart: until then changes on ${route.table} re-send every customer ever sent from it, and those wait as dead letters.`;
      const byPolicyKey =
        route.role === 'policies' && route.policyColumn !== undefined && route.policyColumn !== column && names.has(route.policyColumn);
      return { route, keyLost: { column, path, message, byPolicyKey } };
    }
  }
  const movesUnseen =
    route.role === 'watch' &&
    rel.replicaIdentity !== undefined &&
    rel.replicaIdentity !== 'full' &&
    !(rel.keyColumns ?? []).includes(route.customerColumn);
  return movesUnseen ? { route, movesUnseen } : { route };
}

export type Row = Record<string, unknown>;

export interface RowChange {
  tag: 'insert' | 'update' | 'delete';
  /** Insert and update: the new row. */
  new?: Row | null;
  /** Update/delete with REPLICA IDENTITY FULL: the whole old row. */
  old?: Row | null;
  /** Update that changed the identity, or delete, under DEFAULT/INDEX identity: identity columns only. */
  key?: Row | null;
}

/** Where keys go; the capture buffer implements it (no arrays allocated per change). */
export interface KeySink {
  customer(key: string): void;
  /** A policy whose customer is known only from what was last sent for it. */
  policy(policyKey: string, deleted: boolean): void;
  /** A change whose customer cannot be known (e.g. a watch-table delete without FULL identity). */
  unattributed(route: TableRoute, change: RowChange): void;
}

const text = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : typeof v === 'string' ? v : String(v));

/** Reduces one row change to the customer keys it touches. */
export function changeKeys(route: TableRoute, change: RowChange, sink: KeySink): void {
  const before = change.old ?? change.key ?? undefined;
  const newKey = change.tag === 'delete' ? undefined : text(change.new?.[route.customerColumn]);
  if (newKey !== undefined) sink.customer(newKey);
  if (change.tag === 'insert') return;

  const oldKey = before ? text(before[route.customerColumn]) : undefined;
  if (oldKey !== undefined) {
    if (oldKey !== newKey) sink.customer(oldKey);
    return;
  }
  if (route.role === 'policies' && route.policyColumn) {
    // No old image: a delete, or an update that may have moved the policy to another customer.
    // The customer it was last sent under (sent_policies) is resolved at flush time.
    const policyKey = text(before?.[route.policyColumn]) ?? text(change.new?.[route.policyColumn]);
    if (policyKey !== undefined) sink.policy(policyKey, change.tag === 'delete');
    return;
  }
  if (change.tag === 'delete' || (change.tag === 'update' && newKey === undefined)) sink.unattributed(route, change);
}
