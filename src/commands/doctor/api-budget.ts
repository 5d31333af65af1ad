/**
 * doctor's API probe spends one request of CareCycle's per-minute budget, the same budget the
 * daemon spends: it reads what the state database recorded for the last window, and sends only
 * when that window has room and no 429 pause is in force, recording its request like the daemon
 * does. When the daemon is sending, the probe is not sent at all: the daemon's own recorded
 * answers already say whether the key is accepted, and the budget stays the daemon's.
 */
import type pg from 'pg';
import { nextSlot } from '../../deliver/limiter.js';
import { quoteIdent as q } from '../../pg/names.js';
import { checkApi, type ApiCheckOptions } from './api-check.js';
import { fail, pass, warn, type CheckResult } from './types.js';

export interface RecordedRequest {
  agoMs: number;
  origin: string;
}

export interface BudgetFacts {
  /** Requests of the last window (all origins), oldest first. */
  window: RecordedRequest[];
  pauseLeftMs: number;
  /** The daemon's latest answered request (any age within the hour), if any. */
  lastRunAnswer?: { status: number; agoMs: number };
}

export type ProbePlan =
  | { kind: 'send'; waitMs: number }
  /** `evidence`: the daemon's last answer, which then stands in for the probe's. */
  | { kind: 'skip'; reason: string; evidence?: { status: number; agoMs: number } };

/** Pure: whether, and after how long a wait, the probe may go. */
export function planProbe(f: BudgetFacts, limit: number, windowMs = 60_000, maxWaitMs = 10_000, now = 0): ProbePlan {
  if (f.pauseLeftMs > 0) return { kind: 'skip', reason: `CareCycle asked to wait ${Math.ceil(f.pauseLeftMs / 1000)} s more after a 429` };
  const byDaemon = f.window.filter((r) => r.origin === 'run').length;
  if (byDaemon > 0) {
    return {
      kind: 'skip',
      reason: `the daemon sent ${byDaemon} request(s) in the last minute, so the probe leaves the budget to it`,
      ...(f.lastRunAnswer ? { evidence: f.lastRunAnswer } : {}),
    };
  }
  const slot = nextSlot(
    f.window.map((r) => now - r.agoMs),
    now,
    0,
    { limit, windowMs },
  );
  if (slot - now > maxWaitMs) return { kind: 'skip', reason: `the last minute already holds ${f.window.length} of ${limit} requests` };
  return { kind: 'send', waitMs: Math.max(0, slot - now) };
}

/** The recorded budget, or undefined when the state schema (or its request table) is not there yet. */
export async function readBudgetFacts(client: pg.ClientBase, schema: string, windowMs = 60_000): Promise<BudgetFacts | undefined> {
  const t = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${q(schema)}.requests`]);
  if (!t.rows[0]?.ok) return undefined;
  const cols = await client.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'origin' AND NOT attisdropped`,
    [`${q(schema)}.requests`],
  );
  const origin = cols.rowCount ? 'origin' : `'run'`;
  const w = await client.query<{ ago: number; origin: string }>(
    `SELECT (extract(epoch FROM now() - at) * 1000)::float8 AS ago, ${origin} AS origin FROM ${q(schema)}.requests
      WHERE at > now() - make_interval(secs => $1::float8 / 1000) ORDER BY at`,
    [windowMs],
  );
  const last = await client.query<{ status: number; ago: number }>(
    `SELECT status, (extract(epoch FROM now() - at) * 1000)::float8 AS ago FROM ${q(schema)}.requests
      WHERE ${origin} = 'run' AND status IS NOT NULL AND status <> 0 ORDER BY at DESC LIMIT 1`,
  );
  const pause = await client
    .query<{ until: string | null }>(`SELECT value->>'rateLimitedUntil' AS until FROM ${q(schema)}.runtime WHERE name = 'delivery'`)
    .catch(() => ({ rows: [] as Array<{ until: string | null }> }));
  const until = pause.rows[0]?.until ? Date.parse(pause.rows[0].until) : NaN;
  const lastRow = last.rows[0];
  return {
    window: w.rows.map((r) => ({ agoMs: r.ago, origin: r.origin })),
    pauseLeftMs: Number.isNaN(until) ? 0 : Math.max(0, until - Date.now()),
    ...(lastRow ? { lastRunAnswer: { status: lastRow.status, agoMs: lastRow.ago } } : {}),
  };
}

/** Records the probe as it leaves; resolves with its row id (for the answer), or undefined. */
export async function recordProbe(client: pg.ClientBase, schema: string): Promise<(status: number) => Promise<void>> {
  const r = await client.query<{ id: string }>(
    `INSERT INTO ${q(schema)}.requests (status, records, origin) VALUES (NULL, 0, 'doctor') RETURNING id::text AS id`,
  );
  const id = r.rows[0]!.id;
  return async (status) => {
    await client
      .query(`UPDATE ${q(schema)}.requests SET status = $2, at = greatest(at, now()) WHERE id = $1`, [id, status])
      .catch(() => undefined);
  };
}

const NAME = 'CareCycle API';

/** Pure: the verdict when the probe was not sent, from the daemon's own latest answer if any. */
export function judgeSkipped(plan: Extract<ProbePlan, { kind: 'skip' }>, url: string): CheckResult {
  const e = plan.evidence;
  const said = e ? `the daemon's last request was answered HTTP ${e.status} ${Math.round(e.agoMs / 1000)} s ago` : '';
  if (e && ((e.status >= 200 && e.status < 300) || e.status === 400 || e.status === 422))
    return pass(NAME, `${url}: key accepted (${said}); no probe sent: ${plan.reason}`);
  if (e?.status === 401)
    return fail(
      NAME,
      `${url} rejected the API key (${said}); no probe sent: ${plan.reason}`,
      'set CARECYCLE_API_KEY (or CARECYCLE_API_KEY_FILE) to a valid production key',
    );
  if (e?.status === 403)
    return fail(
      NAME,
      `${url}: the key lacks permission (${said}); no probe sent: ${plan.reason}`,
      'create a key with the sync permission in the Developer Dashboard → API Keys',
    );
  return warn(
    NAME,
    `${url}: not probed, so the key is not verified: ${plan.reason}${said ? `; ${said}` : ''}`,
    'run carecycle-sync doctor again in a minute, or pass --skip-api',
  );
}

/**
 * The API check inside the recorded budget. `state` is a connection to the state database, or
 * undefined when there is none yet (before setup): then nothing was recorded and the probe goes.
 */
export async function probeWithinBudget(
  opts: ApiCheckOptions & { requestsPerMinute: number; schema: string },
  state: pg.ClientBase | undefined,
): Promise<CheckResult> {
  const facts = state ? await readBudgetFacts(state, opts.schema).catch(() => undefined) : undefined;
  if (!facts || !state) return checkApi(opts);
  const plan = planProbe(facts, opts.requestsPerMinute);
  if (plan.kind === 'skip') return judgeSkipped(plan, new URL('/v2/sync/aca', opts.baseUrl).toString());
  if (plan.waitMs > 0) await new Promise((r) => setTimeout(r, plan.waitMs));
  const answered = await recordProbe(state, opts.schema).catch(() => undefined);
  return checkApi({ ...opts, onAnswer: (status) => void answered?.(status) });
}
