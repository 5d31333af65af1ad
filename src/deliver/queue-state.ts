/**
 * The delivery loop's side of the `pending` queue: claim the next keys, and settle their
 * verdicts in one state transaction. A pending row is removed only if its version is the one we
 * claimed: a change captured while the request was in flight bumped it, and the row stays for
 * the next pass (DESIGN §1.4).
 */
import type pg from 'pg';
import { inTransaction, type StateDb } from '../state/db.js';
import type { Commit } from '../assemble/index.js';
import type { KeyVerdict } from './verdicts.js';

export interface Claimed {
  key: string;
  version: string;
  priority: number;
}

/** Up to `limit` keys, live changes before backfill, oldest first, except those in `busy`. */
export async function claimPending(state: StateDb, limit: number, busy: readonly string[] = []): Promise<Claimed[]> {
  const r = await state.pool.query<{ customer_key: string; version: string; priority: number }>(
    `SELECT customer_key, version::text AS version, priority
       FROM pending
      WHERE next_attempt_at <= now() AND customer_key <> ALL($2::text[])
      ORDER BY priority, first_enqueued_at
      LIMIT $1`,
    [limit, busy],
  );
  return r.rows.map((row) => ({ key: row.customer_key, version: row.version, priority: row.priority }));
}

export interface SettleCounts {
  delivered: number;
  skipped: number;
  deadLettered: number;
  /** Of those dead-lettered, how many CareCycle refused (the rest failed local validation). */
  rejectedByApi: number;
  /** Rows kept because they were re-queued while in flight. */
  requeued: number;
}

/**
 * Applies every verdict in one transaction with a fixed number of set-based statements (not
 * one per key): on the backfill path a batch of 100 keys settles in a few milliseconds.
 */
export async function settle(state: StateDb, claimed: readonly Claimed[], verdicts: readonly KeyVerdict[]): Promise<SettleCounts> {
  const version = new Map(claimed.map((c) => [c.key, c.version]));
  const plan = settlePlan(verdicts);
  return inTransaction(state.pool, async (client) => {
    await writeDeadLetters(client, plan.dead);
    await writeSent(client, plan.commits);
    if (plan.resolvedKeys.length) await client.query('DELETE FROM dead_letters WHERE customer_key = ANY($1::text[])', [plan.resolvedKeys]);
    const keys = verdicts.map((v) => v.key);
    const removed = await client.query(
      `DELETE FROM pending p USING unnest($1::text[], $2::bigint[]) AS c(k, v)
        WHERE p.customer_key = c.k AND p.version = c.v`,
      [keys, keys.map((k) => version.get(k) ?? '-1')],
    );
    return { ...plan.counts, requeued: keys.length - (removed.rowCount ?? 0) };
  });
}

type Dead = Extract<KeyVerdict, { kind: 'dead' }>;
type Committed = { key: string; commit: Commit };

/** Pure: sorts verdicts into the statements' inputs. */
export function settlePlan(verdicts: readonly KeyVerdict[]) {
  const dead: Dead[] = [];
  const commits: Committed[] = [];
  /** Keys whose dead letter is moot: delivered now, or unchanged since the last delivery. */
  const resolvedKeys: string[] = [];
  const counts = { delivered: 0, skipped: 0, deadLettered: 0, rejectedByApi: 0 };
  for (const v of verdicts) {
    if (v.kind === 'dead') {
      dead.push(v);
      counts.deadLettered++;
      if (v.httpStatus !== null) counts.rejectedByApi++;
      continue;
    }
    if (v.result.commit) commits.push({ key: v.key, commit: v.result.commit });
    if (v.kind === 'delivered') counts.delivered++;
    else counts.skipped++;
    // A customer fixed back to exactly what CareCycle already holds is in step again.
    if (v.kind === 'delivered' || v.reason === 'unchanged') resolvedKeys.push(v.key);
  }
  return { dead, commits, resolvedKeys, counts };
}

async function writeDeadLetters(client: pg.ClientBase, dead: readonly Dead[]): Promise<void> {
  if (dead.length === 0) return;
  await client.query(
    `INSERT INTO dead_letters (customer_key, payload, reason, field_path, http_status)
     SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::text[], $5::int[])
     ON CONFLICT (customer_key) DO UPDATE SET
       payload = EXCLUDED.payload, reason = EXCLUDED.reason, field_path = EXCLUDED.field_path,
       http_status = EXCLUDED.http_status, attempts = dead_letters.attempts + 1, last_failed_at = now()`,
    [dead.map((d) => d.key), dead.map((d) => JSON.stringify(d.payload ?? null)), dead.map((d) => d.reason), dead.map((d) => d.fieldPath), dead.map((d) => d.httpStatus)],
  );
}

/** The `Commit`s of the assembler (see src/assemble/decide.ts), for all keys at once. */
async function writeSent(client: pg.ClientBase, commits: readonly Committed[]): Promise<void> {
  const hashed = commits.filter((c) => c.commit.hash !== null);
  if (hashed.length) {
    await client.query(
      `INSERT INTO sent (customer_key, payload_hash, identity, sent_at)
       SELECT k, h, i, now() FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS t(k, h, i)
       ON CONFLICT (customer_key) DO UPDATE SET payload_hash = EXCLUDED.payload_hash, identity = EXCLUDED.identity, sent_at = now()`,
      [hashed.map((c) => c.key), hashed.map((c) => c.commit.hash), hashed.map((c) => (c.commit.identity === null ? null : JSON.stringify(c.commit.identity)))],
    );
  }
  const forget = commits.flatMap((c) => c.commit.forgetPolicies.map((p) => [c.key, p] as const));
  if (forget.length) {
    await client.query(
      `DELETE FROM sent_policies s USING unnest($1::text[], $2::text[]) AS f(c, p)
        WHERE s.customer_key = f.c AND s.policy_key = f.p`,
      [forget.map((f) => f[0]), forget.map((f) => f[1])],
    );
  }
  const policies = commits.flatMap((c) => c.commit.policies.map((p) => ({ ...p, customerKey: c.key })));
  if (policies.length) {
    await client.query(
      `INSERT INTO sent_policies (policy_key, customer_key, identifiers, status, sent_at)
       SELECT DISTINCT ON (p) p, c, i, s, now() FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[]) AS t(p, c, i, s)
       ON CONFLICT (policy_key) DO UPDATE SET customer_key = EXCLUDED.customer_key,
         identifiers = EXCLUDED.identifiers, status = EXCLUDED.status, sent_at = now()`,
      [policies.map((p) => p.policyKey), policies.map((p) => p.customerKey), policies.map((p) => JSON.stringify(p.identifiers)), policies.map((p) => p.status)],
    );
  }
}
