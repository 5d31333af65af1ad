import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { qualifiedName, quotedTable, quoteIdent, splitTable } from './names.js';
import type { Problem } from '../errors.js';

/** The code of the problem of a table without a replica identity (doctor has its own check of it). */
export const NO_REPLICA_IDENTITY = 'no-replica-identity';

/**
 * What the source database's catalog says about the tables the config names, and the checks
 * that capture needs before it can stream (tables, key columns, replica identity). Mapping
 * checks (fields, enum targets, sql expressions) live in src/assemble/ and use the same
 * TableInfo, which is structurally a MappingTable.
 */

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface ColumnInfo {
  name: string;
  /** `format_type(atttypid, NULL)`, e.g. `bigint`, `character varying`: usable in a cast. */
  type: string;
  typeOid: number;
  notNull: boolean;
}

export interface TableInfo {
  /** The name as written in the config (`public.customers` or `customers`). */
  ref: string;
  exists: boolean;
  schema: string;
  name: string;
  oid: number | null;
  columns: ReadonlyMap<string, ColumnInfo>;
  /** Primary key columns in key order; empty when there is none. */
  primaryKey: string[];
  replicaIdentity: ReplicaIdentity | null;
}

export interface Catalog {
  /** Keyed by `schema.table` (unqualified config names mean `public`). */
  readonly tables: ReadonlyMap<string, TableInfo>;
  /** The table named `schema.table` or `table`, or undefined when it does not exist. */
  table(name: string): TableInfo | undefined;
}

/** A capture check's finding: the shared Problem, its path a config key (`watch[0].table`). */
export type CaptureProblem = Problem;

/** Every table capture watches, in config order, without duplicates: customers, policies, watch. */
export function watchedTables(config: Config): string[] {
  const refs = [config.customers.table, ...(config.policies ? [config.policies.table] : []), ...config.watch.map((w) => w.table)];
  const seen = new Set<string>();
  return refs.filter((r) => {
    const q = qualifiedName(r);
    if (seen.has(q)) return false;
    seen.add(q);
    return true;
  });
}

const IDENTITY: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/** pg_class.relreplident (`d`, `n`, `f`, `i`) as a ReplicaIdentity; null for anything else. */
export const replicaIdentityOf = (relreplident: string | null): ReplicaIdentity | null =>
  relreplident === null ? null : (IDENTITY[relreplident] ?? null);

/**
 * A table without a replica identity (NOTHING, or DEFAULT without a primary key): once
 * published, Postgres refuses the CRM's own UPDATE and DELETE on it ("cannot update table ...
 * because it does not have a replica identity and publishes updates").
 */
export const lacksReplicaIdentity = (identity: ReplicaIdentity | null, hasPrimaryKey: boolean): boolean =>
  identity === 'nothing' || (identity === 'default' && !hasPrimaryKey);

/** The fix for lacksReplicaIdentity. */
export const replicaIdentityFix = (ref: string): string =>
  `ALTER TABLE ${quotedTable(ref)} REPLICA IDENTITY FULL;  -- or add a primary key`;

interface CatalogRow {
  schema: string;
  table: string;
  oid: number;
  replident: string;
  columns: Array<{ name: string; type: string; typeOid: number; notNull: boolean }>;
  pk: string[] | null;
}

/** Reads columns, primary key and replica identity of the named tables in one query. */
export async function readCatalog(client: pg.ClientBase | pg.Pool, tableNames: readonly string[]): Promise<Catalog> {
  const wanted = [...new Set(tableNames.map(qualifiedName))];
  const { rows } = await client.query<CatalogRow>(
    `SELECT n.nspname AS schema, c.relname AS table, c.oid::int AS oid, c.relreplident AS replident,
            (SELECT json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, NULL),
                                               'typeOid', a.atttypid::int, 'notNull', a.attnotnull) ORDER BY a.attnum)
               FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
            (SELECT array_agg(a.attname::text ORDER BY k.ord)
               FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS pk
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY($1::text[])`,
    [wanted],
  );
  const found = new Map(rows.map((r) => [`${r.schema}.${r.table}`, r]));
  const tables = new Map<string, TableInfo>();
  for (const ref of tableNames) {
    const key = qualifiedName(ref);
    const r = found.get(key);
    const { schema, name } = splitTable(ref);
    tables.set(key, {
      ref,
      exists: r !== undefined,
      schema,
      name,
      oid: r?.oid ?? null,
      columns: new Map((r?.columns ?? []).map((c) => [c.name, c])),
      primaryKey: r?.pk ?? [],
      replicaIdentity: r ? replicaIdentityOf(r.replident) : null,
    });
  }
  return catalogOf(tables);
}

export function catalogOf(tables: ReadonlyMap<string, TableInfo>): Catalog {
  return {
    tables,
    table: (name) => {
      const t = tables.get(qualifiedName(name));
      return t?.exists ? t : undefined;
    },
  };
}

/**
 * The capture-side checks of the config against the catalog. Errors stop `setup` and `run`
 * (exit 2); warnings are printed. Each problem names the config key path.
 */
export function checkCaptureConfig(config: Config, catalog: Catalog): CaptureProblem[] {
  const problems: CaptureProblem[] = [];
  if (!/^[a-z0-9_]+$/.test(config.source.slot)) {
    problems.push({
      severity: 'error',
      path: 'source.slot',
      message: `slot name "${config.source.slot}" may contain only lower-case letters, digits and _ (a Postgres rule)`,
    });
  }
  const customers = checkTable(catalog, config.customers.table, 'customers.table', problems);
  if (customers && checkColumn(customers, config.customers.key, 'customers.key', problems)) {
    warnWithoutIdentity(customers, config.customers.key, 'customers.key', problems);
  }
  if (config.policies) {
    const policies = checkTable(catalog, config.policies.table, 'policies.table', problems);
    if (policies) {
      checkColumn(policies, config.policies.key, 'policies.key', problems);
      checkColumn(policies, config.policies.customerKey, 'policies.customerKey', problems);
    }
  }
  config.watch.forEach((w, i) => {
    const t = checkTable(catalog, w.table, `watch[${i}].table`, problems);
    if (t && checkColumn(t, w.customerKey, `watch[${i}].customerKey`, problems))
      warnWithoutIdentity(t, w.customerKey, `watch[${i}].table`, problems);
  });
  return problems;
}

/**
 * A delete (or an update that moves the row) carries only the replica identity columns. When the
 * customer-key column is not among them, such a change cannot name its customer. Policies are
 * exempt: their customer is resolved through sent_policies.
 */
function warnWithoutIdentity(t: TableInfo, column: string, path: string, problems: CaptureProblem[]): void {
  if (t.replicaIdentity === 'full' || (t.replicaIdentity === 'default' && t.primaryKey.includes(column))) return;
  problems.push({
    severity: 'warning',
    path,
    message: `${t.schema}.${t.name} has REPLICA IDENTITY ${(t.replicaIdentity ?? 'default').toUpperCase()} without ${column}: a deleted row (or one moved to another customer) carries no ${column}, so that customer is not re-sent`,
    fix: `ALTER TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.name)} REPLICA IDENTITY FULL;`,
  });
}

function checkTable(catalog: Catalog, ref: string, path: string, problems: CaptureProblem[]): TableInfo | undefined {
  const t = catalog.table(ref);
  if (!t) {
    problems.push({
      severity: 'error',
      path,
      message: `table ${qualifiedName(ref)} does not exist (or is not an ordinary or partitioned table)`,
    });
    return undefined;
  }
  if (lacksReplicaIdentity(t.replicaIdentity, t.primaryKey.length > 0)) {
    problems.push({
      severity: 'error',
      path,
      message: `${t.schema}.${t.name} has no primary key and no replica identity: once published, the CRM's own UPDATEs and DELETEs on it would fail`,
      code: NO_REPLICA_IDENTITY,
      fix: replicaIdentityFix(ref),
    });
  }
  return t;
}

function checkColumn(t: TableInfo, column: string, path: string, problems: CaptureProblem[]): boolean {
  if (t.columns.has(column)) return true;
  const near = [...t.columns.keys()].filter((c) => c.toLowerCase() === column.toLowerCase());
  problems.push({
    severity: 'error',
    path,
    message: `column "${column}" does not exist in ${t.schema}.${t.name}${near.length ? ` (did you mean "${near[0]}"?)` : ''}; columns: ${[...t.columns.keys()].join(', ')}`,
  });
  return false;
}

/** One line per problem, for CLI output and ConfigError.problems. */
export { formatProblem } from '../errors.js';
