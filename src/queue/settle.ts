/**
 * The settle: every write that records a batch's verdicts (docs/state-tables.md, `pending`,
 * `sent`, `sent_policies`, `dead_letters`), in one round trip. A pending row is removed only if
 * its version is the one claimed: a change captured while the request was in flight bumped it,
 * and the row stays for the next pass. What goes in is decided by the delivery loop
 * (src/deliver/queue-state.ts); this module only writes it.
 */
import type pg from 'pg';
import { inTransaction, type StateDb } from '../state/db.js';
import { hotQuery } from '../state/prepared.js';
import type { Lease } from './lease.js';

/** The rows a settle writes; JSON columns travel in one document (see SETTLE_SQL). */
export interface SettleRows {
  dead: Array<{ k: string; payload: unknown; reason: string; path: string | null; status: number | null }>;
  /** `r`: the restore state (src/queue/restore.ts). */
  sent: Array<{ k: string; h: string; r: boolean; i: unknown; v: unknown }>;
  policies: Array<{ p: string; c: string; i: unknown; s: string | null; v: unknown }>;
  /** (customer, policy) pairs to forget from sent_policies, before the upsert. */
  forget: ReadonlyArray<readonly [string, string]>;
  /** Keys whose dead letter is moot. */
  resolved: string[];
  /** Pending rows to remove, each only at the version claimed. */
  remove: { keys: string[]; versions: string[] };
  /** Customers kept pending to go once more at live priority (the restore rule). */
  restoreLive: string[];
}

/**
 * Every write of a settle as one statement: the data-modifying CTEs touch different tables (or
 * disjoint keys: a dead key is never a resolved one), so their shared snapshot is harmless.
 * Each of them writes only while the lease ($5, $6) is current, and `fence` share-locks the lease
 * row until the statement commits, so a new holder's takeLease waits for it (src/queue/lease.ts).
 * A policy recorded here whose change capture could not resolve meanwhile (`consumed`: it was
 * hard-deleted while this send was in flight) keeps its customer pending, so the next pass sends
 * the delete; unresolved changes older than every batch in flight (`expired`, $7) are moot.
 * The result is how many pending rows were removed; the others were re-queued in flight.
 *
 * Rows with JSON columns travel as one JSON document ($1: `dead`, `sent`, `policies`), plain
 * keys as text arrays: a jsonb[] parameter costs an escape per element on our side and an
 * array_in plus jsonb_in per element on the server's, 3 ms for 200 policies against 1.5 ms.
 * The `= ANY` on pending's key keeps its DELETE on the primary key: joined to unnest alone, the
 * planner hashed the whole queue (a seq scan per batch: 100,000 backfill keys, 2 ms each).
 */
const SETTLE_SQL = `
WITH doc AS (SELECT $1::jsonb AS j),
fence AS (SELECT 1 FROM lease WHERE slot = $5 AND generation = $6::bigint FOR SHARE),
dead AS (
  INSERT INTO dead_letters (customer_key, payload, reason, field_path, http_status)
  SELECT d.k, d.payload, d.reason, d.path, d.status
    FROM doc, jsonb_to_recordset(doc.j->'dead') AS d(k text, payload jsonb, reason text, path text, status int)
   WHERE EXISTS (SELECT 1 FROM fence)
  ON CONFLICT (customer_key) DO UPDATE SET
    payload = EXCLUDED.payload, reason = EXCLUDED.reason, field_path = EXCLUDED.field_path,
    http_status = EXCLUDED.http_status, attempts = dead_letters.attempts + 1, last_failed_at = now()
), resolved AS (
  DELETE FROM dead_letters WHERE customer_key = ANY($2::text[]) AND EXISTS (SELECT 1 FROM fence)
), sent_rows AS (
  INSERT INTO sent (customer_key, payload_hash, restore, identity, valued, sent_at)
  SELECT t.k, t.h, t.r, t.i, t.v, now() FROM doc, jsonb_to_recordset(doc.j->'sent') AS t(k text, h text, r boolean, i jsonb, v jsonb)
   WHERE EXISTS (SELECT 1 FROM fence)
  ON CONFLICT (customer_key) DO UPDATE SET payload_hash = EXCLUDED.payload_hash, restore = EXCLUDED.restore, identity = EXCLUDED.identity,
    valued = EXCLUDED.valued, sent_at = now()
), policy_rows AS (
  INSERT INTO sent_policies (policy_key, customer_key, identifiers, status, valued, sent_at)
  SELECT DISTINCT ON (t.p) t.p, t.c, t.i, t.s, t.v, now() FROM doc, jsonb_to_recordset(doc.j->'policies') AS t(p text, c text, i jsonb, s text, v jsonb)
   WHERE EXISTS (SELECT 1 FROM fence)
  ON CONFLICT (policy_key) DO UPDATE SET customer_key = EXCLUDED.customer_key,
    identifiers = EXCLUDED.identifiers, status = EXCLUDED.status, valued = EXCLUDED.valued, sent_at = now()
), restore_live AS (
  -- A restore re-send goes at live priority, whatever brought the customer here (a backfill).
  UPDATE pending SET priority = 0 WHERE customer_key = ANY($8::text[]) AND priority <> 0 AND EXISTS (SELECT 1 FROM fence)
), consumed AS (
  DELETE FROM unresolved_policy_changes u USING doc, jsonb_to_recordset(doc.j->'policies') AS t(p text, c text)
   WHERE u.policy_key = t.p AND EXISTS (SELECT 1 FROM fence)
  RETURNING t.c AS customer_key
), expired AS (
  DELETE FROM unresolved_policy_changes u
   WHERE u.recorded_at < to_timestamp($7::float8) AND EXISTS (SELECT 1 FROM fence)
     AND NOT EXISTS (SELECT 1 FROM sent_policies s WHERE s.policy_key = u.policy_key)
     AND NOT EXISTS (SELECT 1 FROM doc, jsonb_to_recordset(doc.j->'policies') AS t(p text) WHERE t.p = u.policy_key)
), removed AS (
  DELETE FROM pending p USING unnest($3::text[], $4::bigint[]) AS c(k, v)
   WHERE p.customer_key = ANY($3::text[]) AND p.customer_key = c.k AND p.version = c.v AND EXISTS (SELECT 1 FROM fence)
     AND p.customer_key NOT IN (SELECT customer_key FROM consumed)
  RETURNING 1
)
SELECT (SELECT count(*) FROM removed)::int AS removed, EXISTS (SELECT 1 FROM fence) AS held`;

/**
 * Writes `rows` while `lease` is current. Returns how many pending rows were removed, or null
 * when the lease was no longer current (nothing was written). Only rows that forget remembered
 * policies need a transaction, because that DELETE must come before the upsert of sent_policies
 * (a policy that moved between two customers of the batch is in both).
 *
 * `oldestInFlight`: the claim time of the oldest batch of this deliverer still in flight (this
 * one included). An unresolved policy change recorded before it cannot concern any batch that
 * may still settle: every such batch read the CRM after the change was captured.
 */
export async function settleRows(state: StateDb, rows: SettleRows, lease: Lease, oldestInFlight: string): Promise<number | null> {
  const doc = { dead: rows.dead, sent: rows.sent, policies: rows.policies };
  const params = [
    JSON.stringify(doc),
    rows.resolved,
    rows.remove.keys,
    rows.remove.versions,
    lease.slot,
    lease.generation,
    oldestInFlight,
    rows.restoreLive,
  ];
  const run = async (client: pg.ClientBase | pg.Pool) => {
    const r = await client.query<{ removed: number; held: boolean }>(hotQuery(SETTLE_SQL, params, state.prepared));
    return r.rows[0]!.held ? r.rows[0]!.removed : null;
  };
  if (rows.forget.length === 0) return run(state.pool);
  return inTransaction(state.pool, async (client) => {
    // The lease row stays share-locked to the end: a new holder's takeLease waits for this commit.
    const held = await client.query('SELECT 1 FROM lease WHERE slot = $1 AND generation = $2::bigint FOR SHARE', [
      lease.slot,
      lease.generation,
    ]);
    if (held.rowCount === 0) return null;
    await client.query(
      `DELETE FROM sent_policies s USING unnest($1::text[], $2::text[]) AS f(c, p)
        WHERE s.customer_key = f.c AND s.policy_key = f.p`,
      [rows.forget.map((f) => f[0]), rows.forget.map((f) => f[1])],
    );
    return run(client);
  });
}
