import type pg from 'pg';
import { readCatalog } from '../pg/catalog.js';
import { qualifiedName } from '../pg/names.js';

/**
 * The part of the database catalog the mapping needs: which columns a table has and their
 * types (as `format_type(atttypid, NULL)`, e.g. `bigint`, `character varying`, usable in a
 * cast such as `$1::bigint[]`). A narrow interface, so the checks run against any catalog source;
 * src/pg/catalog.ts `readCatalog` returns one.
 */
export interface MappingColumn {
  name: string;
  type: string;
}
export interface MappingTable {
  schema: string;
  name: string;
  columns: ReadonlyMap<string, MappingColumn>;
}
export interface MappingCatalog {
  /** `schema.table` (unqualified means public) → the table, or undefined when it does not exist. */
  table(name: string): MappingTable | undefined;
}

/** Builds a MappingCatalog from plain table descriptions (tests, other catalog readers). */
export function catalogOf(tables: Iterable<MappingTable>): MappingCatalog {
  const byName = new Map<string, MappingTable>();
  for (const t of tables) byName.set(`${t.schema}.${t.name}`, t);
  return { table: (name) => byName.get(qualifiedName(name)) };
}

/** Reads the named tables' columns (src/pg/catalog.ts); kept for callers that only need a MappingCatalog. */
export async function readMappingCatalog(client: pg.ClientBase | pg.Pool, names: readonly string[]): Promise<MappingCatalog> {
  return readCatalog(client, names);
}
