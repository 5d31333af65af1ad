import { sql } from '../harness/db.js';

/**
 * One-off errors injected into the state database by Postgres itself: a statement trigger on
 * `pending` (or another state table) raises for the next `times` INSERTs (a sequence counts them, and nextval is not
 * rolled back with the failed transaction). The error code imitates a deadlock, the transient
 * failure a flush can really meet when it races a settle.
 */
export async function armPendingInsertFault(url: string, opts: { schema?: string; times?: number; code?: string } = {}): Promise<void> {
  return armInsertFault(url, 'pending', opts);
}

/** The same for INSERTs into any state table (`backfill`, `sent`, …). */
export async function armInsertFault(
  url: string,
  table: string,
  opts: { schema?: string; times?: number; code?: string } = {},
): Promise<void> {
  const schema = opts.schema ?? 'carecycle_sync';
  const times = opts.times ?? 1;
  const code = opts.code ?? '40P01';
  await sql(
    url,
    `DROP SEQUENCE IF EXISTS "${schema}".injected_fault_seq;
     CREATE SEQUENCE "${schema}".injected_fault_seq;
     CREATE OR REPLACE FUNCTION "${schema}".injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF nextval('"${schema}".injected_fault_seq') <= ${times} THEN
         RAISE EXCEPTION 'injected fault (test)' USING ERRCODE = '${code}';
       END IF;
       RETURN NULL;
     END $$;
     DROP TRIGGER IF EXISTS injected_fault ON "${schema}".${table};
     CREATE TRIGGER injected_fault BEFORE INSERT ON "${schema}".${table} FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".injected_fault();`,
  );
}

/** How many INSERTs into `pending` ran since arming (the first `times` of them failed). */
export async function armedInserts(url: string, schema = 'carecycle_sync'): Promise<number> {
  const r = await sql<{ n: string }>(url, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM "${schema}".injected_fault_seq`);
  return Number(r[0]?.n ?? 0);
}
