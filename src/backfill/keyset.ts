import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { ConfigError, UsageError } from '../errors.js';
import { quoteIdent as quote } from '../pg/names.js';
import { onConnection } from '../pg/sqlstate.js';

/**
 * The keyset paging of the customer table: `WHERE key > cursor ORDER BY key LIMIT n`, with the
 * cursor cast to the key column's own type. Compared as text, '10' < '9' and a numeric key would
 * be paged in the wrong order, so a resumed backfill would skip or repeat customers.
 */
export interface KeysetSource {
  /** `"schema"."table"`, quoted; the table is read under its own name so predicates may say `customers.id`. */
  table: string;
  /** The quoted key column. */
  key: string;
  /** The key column's type as format_type() spells it (e.g. `bigint`, `uuid`, `text`). */
  keyType: string;
  /** The combined predicate (customers.where AND --where), or 'true'. */
  predicate: string;
}

export function splitTable(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** `(a) AND (b)` over the non-empty predicates; 'true' when there are none. */
export function combinePredicates(...preds: Array<string | null | undefined>): string {
  const parts = preds.map((p) => p?.trim()).filter((p): p is string => !!p);
  return parts.length === 0 ? 'true' : parts.map((p) => `(${p})`).join(' AND ');
}

/**
 * SELECT of the next chunk of keys: at most $1 of them, after the cursor $2 when `afterCursor`.
 * Two texts rather than `$2 IS NULL OR …` so the planner always sees a plain index range.
 */
export function chunkSelect(src: KeysetSource, afterCursor: boolean): string {
  const after = afterCursor ? ` AND ${src.key} > $2::text::${src.keyType}` : '';
  return `SELECT ${src.key} AS k FROM ${src.table} WHERE (${src.predicate})${after} ORDER BY ${src.key} LIMIT $1`;
}

export function countSelect(src: KeysetSource): string {
  return `SELECT count(*) AS n FROM ${src.table} WHERE ${src.predicate}`;
}

/**
 * Looks the customer table and key up in the CRM catalog and checks the predicate compiles, so a
 * typo in --where is a usage error (exit 2) naming the Postgres message, not a failure mid-run.
 */
export async function resolveKeyset(crm: pg.Pool | pg.ClientBase, config: Config, where?: string | null): Promise<KeysetSource> {
  const { schema, table } = splitTable(config.customers.table);
  const keyCol = config.customers.key;
  const r = await onConnection(
    'source',
    crm.query<{ type: string | null; found: boolean }>(
      `SELECT to_regclass($1) IS NOT NULL AS found,
            (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
              WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped) AS type`,
      [`${quote(schema)}.${quote(table)}`, keyCol],
    ),
  );
  const row = r.rows[0];
  if (!row?.found) throw new ConfigError(`customers.table: table ${schema}.${table} not found in the source database`);
  if (!row.type) throw new ConfigError(`customers.key: column "${keyCol}" not found in ${schema}.${table}`);
  const src: KeysetSource = {
    table: `${quote(schema)}.${quote(table)}`,
    key: quote(keyCol),
    keyType: row.type,
    predicate: combinePredicates(config.customers.where, where),
  };
  try {
    await crm.query(`EXPLAIN ${countSelect(src)}`);
  } catch (err) {
    const msg = (err as Error).message;
    if (where)
      throw new UsageError(`--where ${JSON.stringify(where)} is not a valid predicate over ${schema}.${table}: ${msg}`, { cause: err });
    throw new ConfigError(`customers.where is not a valid predicate over ${schema}.${table}: ${msg}`, [], { cause: err });
  }
  return src;
}
