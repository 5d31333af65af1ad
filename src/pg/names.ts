/**
 * Names in SQL text. A schema, table, column, role or publication taken from the config is always
 * quoted with quoteIdent (a value is always a parameter instead); a table named in the config
 * (`customers` or `crm.customers`, unqualified meaning `public`) goes through splitTable.
 */

/** `"name"`, with an embedded `"` doubled: safe for any identifier, and its case is kept. */
export const quoteIdent = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

/** A name as a person writes it in a fix: bare when it is a plain lower-case name, quoted otherwise. */
export const plainIdent = (ident: string): string => (/^[a-z_][a-z0-9_]*$/.test(ident) ? ident : quoteIdent(ident));

/** `customers` → `{schema: 'public', name: 'customers'}`; `crm.clients` → `{schema: 'crm', name: 'clients'}`. */
export function splitTable(ref: string): { schema: string; name: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { schema: 'public', name: ref } : { schema: ref.slice(0, dot), name: ref.slice(dot + 1) };
}

/** `schema.table`, unquoted: the key of a table in a Catalog and in messages. */
export const qualifiedName = (ref: string): string => {
  const t = splitTable(ref);
  return `${t.schema}.${t.name}`;
};

/** `"schema"."table"`, quoted for SQL text. */
export function quotedTable(ref: string): string {
  const t = splitTable(ref);
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}
