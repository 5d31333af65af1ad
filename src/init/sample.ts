import type pg from 'pg';
import { readCatalog } from '../pg/catalog.js';
import { PLAIN_TEXT_TYPES } from '../assemble/query.js';
import { quoteIdent } from '../pg/names.js';
import { profileColumn } from './profile.js';
import type { SampledTable } from './tables.js';

/**
 * Reads what `init` decides from: the tables of the chosen schemas (the project's catalog
 * reader gives columns, primary keys and types), their single-column foreign keys, a row
 * estimate, and a bounded sample of each table. A large table is sampled with
 * `TABLESAMPLE SYSTEM` (whole pages picked at random, so only a few pages are read) and every
 * sample has a `LIMIT`: never a full scan. Everything runs in one READ ONLY transaction.
 */

/** Rows per page assumed when the table was never analysed (narrow CRM rows fit ~50–100 a page). */
const ROWS_PER_PAGE_GUESS = 60;

/** Up to this many pages (2 MB) a table is small enough to pick its sample from all rows. */
const SMALL_TABLE_PAGES = 256;

/**
 * The sampling clause for a table of `pages` pages and about `rows` rows. Pure.
 * A small table: a random `limit` of all its rows. A large one: TABLESAMPLE SYSTEM + LIMIT, so
 * only the sampled pages are read. The page count is the table's current size, never stale.
 */
export function sampleClause(rows: number, pages: number, limit: number): { clause: string; method: string } {
  if (pages <= SMALL_TABLE_PAGES) return { clause: `ORDER BY random() LIMIT ${limit}`, method: `${limit} random rows` };
  if (rows <= limit * 2) return { clause: `LIMIT ${limit}`, method: `LIMIT ${limit}` };
  // Three times the pages strictly needed: SYSTEM picks each page with this probability.
  const pct = Math.min(100, (limit * 3 * 100) / rows);
  const p = pct >= 1 ? pct.toFixed(2) : pct.toPrecision(3);
  return { clause: `TABLESAMPLE SYSTEM (${p}) REPEATABLE (42) LIMIT ${limit}`, method: `TABLESAMPLE SYSTEM (${p} %) LIMIT ${limit}` };
}

/** Row estimate from the planner's statistics, scaled to the table's current size; pages × a guess when never analysed. */
export function estimateRows(reltuples: number, relpages: number, pages: number): number {
  if (reltuples > 0 && relpages > 0) return Math.round((reltuples / relpages) * Math.max(pages, 1));
  if (reltuples > 0) return Math.round(reltuples);
  return pages * ROWS_PER_PAGE_GUESS;
}

interface TableRow {
  schema: string;
  name: string;
  reltuples: number;
  relpages: number;
  pages: number;
}
interface FkRow {
  schema: string;
  table: string;
  column: string;
  ref_schema: string;
  ref_table: string;
}

async function listTables(db: pg.ClientBase, schemas: readonly string[]): Promise<TableRow[]> {
  const { rows } = await db.query<TableRow>(
    `SELECT n.nspname AS schema, c.relname AS name, c.reltuples::float8 AS reltuples, c.relpages::int AS relpages,
            (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS pages
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY($1::text[])
        AND has_table_privilege(c.oid, 'SELECT')
      ORDER BY 1, 2`,
    [schemas],
  );
  return rows;
}

async function listForeignKeys(db: pg.ClientBase, schemas: readonly string[]): Promise<FkRow[]> {
  const { rows } = await db.query<FkRow>(
    `SELECT cn.nspname AS schema, cl.relname AS table, a.attname AS column, rn.nspname AS ref_schema, rl.relname AS ref_table
       FROM pg_constraint k
       JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cl.relnamespace
       JOIN pg_class rl ON rl.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = rl.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
      WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND cn.nspname = ANY($1::text[])`,
    [schemas],
  );
  return rows;
}

/** A column's value as text, as the assembler reads it, cut to 200 characters; binary columns are skipped. */
function valueExpr(name: string, type: string): string {
  const q = quoteIdent(name);
  if (type === 'bytea') return 'NULL::text';
  return PLAIN_TEXT_TYPES.has(type) ? `left(${q}::text, 200)` : `left(to_jsonb(${q}) #>> '{}', 200)`;
}

async function sampleRows(
  db: pg.ClientBase,
  from: string,
  exprs: string[],
  size: { rows: number; pages: number },
  limit: number,
): Promise<{ rows: unknown[][]; method: string }> {
  const plan = sampleClause(size.rows, size.pages, limit);
  const text = (clause: string) => `SELECT ${exprs.join(', ')} FROM ${from} ${clause}`;
  const r = await db.query({ text: text(plan.clause), rowMode: 'array' });
  // Statistics can be stale (a table that grew or shrank): too few rows from the page sample → plain LIMIT.
  if (plan.clause.startsWith('TABLESAMPLE') && r.rows.length < limit / 4) {
    const again = await db.query({ text: text(`LIMIT ${limit}`), rowMode: 'array' });
    return { rows: again.rows, method: `LIMIT ${limit} (the page sample returned only ${r.rows.length} rows)` };
  }
  return { rows: r.rows, method: plan.method };
}

/** Samples every table of `schemas` the user may read. `db` must be inside a READ ONLY transaction. */
export async function sampleSchemas(db: pg.ClientBase, schemas: readonly string[], limit: number): Promise<SampledTable[]> {
  const tables = await listTables(db, schemas);
  // The same sample (and so the same proposal) on every run over the same data.
  await db.query('SELECT setseed(0.42)');
  const fks = await listForeignKeys(db, schemas);
  const catalog = await readCatalog(
    db,
    tables.map((t) => `${t.schema}.${t.name}`),
  );
  const out: SampledTable[] = [];
  for (const t of tables) {
    const info = catalog.table(`${t.schema}.${t.name}`);
    if (!info) continue;
    const columns = [...info.columns.values()];
    const pk = info.primaryKey;
    const exprs = [...columns.map((c) => valueExpr(c.name, c.type)), pk.length === 1 ? `${quoteIdent(pk[0]!)}::text` : 'NULL::text'];
    const estimatedRows = estimateRows(t.reltuples, t.relpages, t.pages);
    const sample = await sampleRows(
      db,
      `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`,
      exprs,
      { rows: estimatedRows, pages: t.pages },
      limit,
    );
    const cell = (row: unknown[], i: number) => (row[i] === null || row[i] === undefined ? null : String(row[i]));
    out.push({
      schema: t.schema,
      name: t.name,
      primaryKey: pk,
      foreignKeys: fks
        .filter((f) => f.schema === t.schema && f.table === t.name)
        .map((f) => ({ column: f.column, refSchema: f.ref_schema, refTable: f.ref_table })),
      estimatedRows: Math.max(estimatedRows, sample.rows.length),
      sampleMethod: sample.method,
      columns: columns.map((c, i) =>
        profileColumn(
          c.name,
          c.type,
          sample.rows.map((r) => cell(r, i)),
        ),
      ),
      sampledKeys: pk.length === 1 ? sample.rows.map((r) => cell(r, columns.length)).filter((k): k is string => k !== null) : [],
    });
  }
  return out;
}
