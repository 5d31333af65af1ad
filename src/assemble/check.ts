import pg from 'pg';
import type { Config } from '../config/schema.js';
import { ConfigError, formatProblem, type Problem } from '../errors.js';
import { resolveMapping, type MappingPlan, type TablePlan } from './mapping.js';
import { customerQuery, policyQuery, tableRef } from './query.js';
import type { MappingCatalog } from './catalog.js';

/**
 * Startup check of the mapping (docs/config-reference.md): names against the catalog
 * (./mapping.ts), then every `where` and `{sql}` expression prepared against the real table, and
 * finally the assembler's own queries run with no keys. Statements run in a READ ONLY transaction
 * and select no rows (`LIMIT 0`), so a volatile expression is never executed for real.
 */
interface SqlCheck {
  path: string;
  text: string;
  params?: unknown[];
}

function checksFor(plan: MappingPlan): SqlCheck[] {
  const out: SqlCheck[] = [];
  const tables: TablePlan[] = [plan.customers, ...(plan.policies ? [plan.policies] : [])];
  for (const t of tables) {
    if (t.where) out.push({ path: `${t.section}.where`, text: `SELECT 1 FROM ${tableRef(t)} WHERE (${t.where}) LIMIT 0` });
    const fields = [...t.fields, ...(t === plan.customers ? plan.customers.customFields : [])];
    for (const f of fields) {
      if (f.column === undefined) out.push({ path: `${f.path}.sql`, text: `SELECT to_jsonb(${f.expr}) FROM ${tableRef(t)} LIMIT 0` });
    }
  }
  out.push({ path: 'customers', text: customerQuery(plan.customers), params: [[]] });
  if (plan.policies) out.push({ path: 'policies', text: policyQuery(plan.policies), params: [[]] });
  return out;
}

function describeSqlError(err: unknown): string {
  const e = err as pg.DatabaseError;
  const code = e.code ? ` (SQLSTATE ${e.code})` : '';
  const hint = e.hint ? `; hint: ${e.hint}` : '';
  return `${e.message}${code}${hint}`;
}

async function runChecks(client: pg.ClientBase, checks: SqlCheck[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  const failed = new Set<string>();
  await client.query('BEGIN READ ONLY');
  try {
    for (const c of checks) {
      // The combined queries only matter when each piece passed on its own.
      if ((c.path === 'customers' || c.path === 'policies') && [...failed].some((p) => p.startsWith(`${c.path}.`))) continue;
      await client.query('SAVEPOINT mapping_check');
      try {
        await client.query(c.text, c.params);
        await client.query('RELEASE SAVEPOINT mapping_check');
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT mapping_check');
        failed.add(c.path);
        const code = (err as pg.DatabaseError).code;
        problems.push({ severity: 'error', path: c.path, message: describeSqlError(err), ...(code ? { code } : {}) });
      }
    }
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  return problems;
}

/** Every problem of the mapping, each naming its key path; empty when the mapping is good. */
export async function checkMapping(config: Config, catalog: MappingCatalog, db: pg.Pool | pg.ClientBase): Promise<Problem[]> {
  const { plan, problems } = resolveMapping(config, catalog);
  // Column or table names are wrong: preparing SQL over them would only repeat the same news.
  if (!plan || problems.length > 0) return problems;
  if (db instanceof pg.Pool) {
    const client = await db.connect();
    try {
      return await runChecks(client, checksFor(plan));
    } finally {
      client.release();
    }
  }
  return runChecks(db, checksFor(plan));
}

/** checkMapping, then the plan; throws ConfigError (exit 2) naming the file and every key path. */
export async function loadMappingPlan(
  config: Config,
  catalog: MappingCatalog,
  db: pg.Pool | pg.ClientBase,
  file = '<config>',
): Promise<MappingPlan> {
  const problems = await checkMapping(config, catalog, db);
  const { plan } = resolveMapping(config, catalog);
  if (problems.length > 0 || !plan) {
    throw new ConfigError(
      `${file}: the mapping does not match the database (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems.map((p) => `${file}: ${formatProblem(p)}`),
    );
  }
  return plan;
}
