import type pg from 'pg';
import { plainIdent, quoteIdent } from '../../pg/names.js';
import { listMigrations } from '../../state/migrate.js';
import { fail, pass, type CheckResult } from './types.js';

/** The state schema: present and migrated to this version (else `setup` has not run yet). */

export interface StateFacts {
  user: string;
  schemaExists: boolean;
  /** schema_migrations is there (as far as this role can see: USAGE on the schema). */
  hasTables: boolean;
  applied: number[];
  /** SELECT on schema_migrations and INSERT, UPDATE, DELETE on pending. */
  canRead: boolean;
  canWrite: boolean;
}

export async function readStateFacts(client: pg.ClientBase, schema: string): Promise<StateFacts> {
  // to_regclass and has_table_privilege need USAGE on the schema; check it first.
  const { rows } = await client.query<{ usr: string; exists: boolean; has_table: boolean; can_read: boolean; can_write: boolean }>(
    `WITH s AS (SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
                       COALESCE((SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace WHERE nspname = $1), false) AS usage)
     SELECT current_user AS usr, s.exists,
            s.usage AND to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL AS has_table,
            s.usage AND to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL
              AND has_table_privilege(to_regclass(quote_ident($1) || '.schema_migrations'), 'SELECT') AS can_read,
            CASE WHEN NOT s.usage THEN false WHEN to_regclass(quote_ident($1) || '.pending') IS NULL THEN false
                 ELSE has_table_privilege(to_regclass(quote_ident($1) || '.pending'), 'INSERT,UPDATE,DELETE') END AS can_write
       FROM s`,
    [schema],
  );
  const r = rows[0]!;
  const base = { user: r.usr, schemaExists: r.exists, hasTables: r.has_table, canRead: r.can_read, canWrite: r.can_write };
  if (!r.can_read) return { ...base, applied: [] };
  const applied = await client.query<{ version: number }>(`SELECT version FROM ${quoteIdent(schema)}.schema_migrations ORDER BY version`);
  return { ...base, applied: applied.rows.map((x) => x.version) };
}

export function checkState(s: StateFacts, schema: string, known = listMigrations().map((m) => m.version)): CheckResult {
  const name = `state schema ${schema}`;
  const q = quoteIdent(schema);
  const role = plainIdent(s.user);
  const grant = `GRANT USAGE ON SCHEMA ${q} TO ${role}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${q} TO ${role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${q} TO ${role};  -- as the schema owner`;
  // Without USAGE on the schema the tables are invisible: that, too, is a grant problem.
  if (s.schemaExists && (s.hasTables || !s.canRead) && (!s.canRead || !s.canWrite))
    return fail(name, `exists, but role ${s.user} cannot read and write its tables`, grant);
  if (!s.schemaExists || s.applied.length === 0)
    return fail(name, 'does not exist yet (or has no migrations applied)', 'carecycle-sync setup');
  const missing = known.filter((v) => !s.applied.includes(v));
  if (missing.length > 0)
    return fail(
      name,
      `migrations ${missing.join(', ')} not applied (this version of carecycle-sync needs them)`,
      'carecycle-sync setup   -- applies pending migrations',
    );
  const newer = s.applied.filter((v) => !known.includes(v));
  if (newer.length > 0)
    return fail(
      name,
      `has migrations ${newer.join(', ')} that this carecycle-sync does not know: a newer version wrote it`,
      'upgrade carecycle-sync to the version that set up this state',
    );
  return pass(name, `migrated (${s.applied.length} migration${s.applied.length === 1 ? '' : 's'})`);
}
