import type pg from 'pg';

/**
 * The part of the database catalog the mapping needs: which columns a table has and their
 * types (as `format_type(atttypid, NULL)`, e.g. `bigint`, `character varying`, usable in a
 * cast such as `$1::bigint[]`). A narrow interface, so the checks run against any catalog source.
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

/** `customers` → `{schema: 'public', name: 'customers'}`. */
export function splitTableName(name: string): { schema: string; name: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', name } : { schema: name.slice(0, dot), name: name.slice(dot + 1) };
}

export const qualified = (name: string): string => {
  const t = splitTableName(name);
  return `${t.schema}.${t.name}`;
};

/** Builds a MappingCatalog from plain table descriptions (tests, other catalog readers). */
export function catalogOf(tables: Iterable<MappingTable>): MappingCatalog {
  const byName = new Map<string, MappingTable>();
  for (const t of tables) byName.set(`${t.schema}.${t.name}`, t);
  return { table: (name) => byName.get(qualified(name)) };
}

/** Reads the columns of the named tables (ordinary, partitioned tables and views) in one query. */
export async function readMappingCatalog(client: pg.ClientBase | pg.Pool, names: readonly string[]): Promise<MappingCatalog> {
  const wanted = [...new Set(names.map(qualified))];
  const { rows } = await client.query<{ schema: string; table: string; column: string; type: string }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column, format_type(a.atttypid, NULL) AS type
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname || '.' || c.relname = ANY($1::text[])
      ORDER BY a.attnum`,
    [wanted],
  );
  const tables = new Map<string, { schema: string; name: string; columns: Map<string, MappingColumn> }>();
  for (const r of rows) {
    const k = `${r.schema}.${r.table}`;
    let t = tables.get(k);
    if (!t) tables.set(k, (t = { schema: r.schema, name: r.table, columns: new Map() }));
    t.columns.set(r.column, { name: r.column, type: r.type });
  }
  return catalogOf(tables.values());
}
