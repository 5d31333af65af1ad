import pg from 'pg';
import type { Config } from '../../config/schema.js';
import { scrub } from '../../log/secrets.js';
import { pgConfig, pgConnection, type PgTarget } from '../../config/pg-connection.js';
import { probeWithinBudget } from './api-budget.js';
import { configChecks } from './config-check.js';
import { readSourceFacts } from './facts.js';
import { serverChecks } from './server-checks.js';
import { slotChecks } from './slot-checks.js';
import { checkState, readStateFacts } from './state-check.js';
import { tableChecks } from './table-checks.js';
import { explainTlsFailure, judgeTls, readTlsFacts, tlsCheckName } from './tls-check.js';
import { fail, report, type CheckResult, type DoctorReport } from './types.js';
import { pgProblem, sqlstateOf } from '../../pg/sqlstate.js';

/**
 * `carecycle-sync doctor`: reads the facts, runs the checks, never changes anything.
 * A check that cannot even run (connection refused, a catalog view denied) is itself a failed
 * check with the error, so the report is always complete.
 */

export { formatReport, formatReportJson } from './format.js';
export type { CheckResult, DoctorReport } from './types.js';

export interface DoctorOptions {
  /** Skip the API probe (it costs one request of the per-minute budget). */
  skipApi?: boolean;
}

const errText = (err: unknown) => {
  const code = sqlstateOf(err);
  return scrub(`${(err as Error)?.message ?? String(err)}${code ? ` (SQLSTATE ${code})` : ''}`);
};

async function withClient(
  config: Config,
  target: PgTarget,
  fn: (c: pg.Client) => Promise<CheckResult[]>,
  what: string,
): Promise<CheckResult[]> {
  const conn = pgConnection(config, target);
  let client: pg.Client;
  try {
    client = new pg.Client(pgConfig(config, target, { application_name: 'carecycle-sync doctor', connectionTimeoutMillis: 10_000 }));
    await client.connect();
  } catch (err) {
    const tls = explainTlsFailure(err, conn);
    if (tls) return [fail(tlsCheckName(what), scrub(tls.detail), tls.fix)];
    // A wrong password, a missing database or grant: the SQLSTATE table names the fix.
    const problem = pgProblem(err, target === 'state' ? 'state' : 'source');
    if (problem) return [fail(`connect to ${what}`, scrub(problem.message), problem.fix)];
    return [
      fail(
        `connect to ${what}`,
        errText(err),
        `check ${what === 'source database' ? 'source.url / DATABASE_URL' : 'state.url / STATE_DATABASE_URL'}, that the server is running and that pg_hba.conf admits this host and role`,
      ),
    ];
  }
  try {
    return [judgeTls(what, conn, readTlsFacts(client)), ...(await fn(client))];
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function guarded(name: string, fn: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await fn();
  } catch (err) {
    return [fail(name, `could not run: ${errText(err)}`)];
  }
}

async function sourceChecks(config: Config): Promise<CheckResult[]> {
  return withClient(
    config,
    'source',
    async (client) => {
      const out: CheckResult[] = [];
      const facts = await guarded('source catalog', async () => {
        const f = await readSourceFacts(client, config);
        out.push(...serverChecks(f), ...tableChecks(f, config), ...slotChecks(f, config.source.slot));
        return [];
      });
      out.push(...facts);
      const canRead = out.every((c) => !c.name.startsWith('SELECT on ') || c.ok);
      out.push(...(await guarded('config vs catalog', () => configChecks(client, config, canRead))));
      return out;
    },
    'source database',
  );
}

async function stateChecks(config: Config): Promise<CheckResult[]> {
  return withClient(
    config,
    'state',
    async (client) =>
      guarded(`state schema ${config.state.schema}`, async () => [
        checkState(await readStateFacts(client, config.state.schema), config.state.schema),
      ]),
    'state database',
  );
}

/** The API probe, taking its request from the budget recorded in the state database. */
async function apiCheck(config: Config): Promise<CheckResult> {
  const probe = {
    baseUrl: config.carecycle.baseUrl,
    apiKey: config.carecycle.apiKey,
    timeoutMs: Math.min(config.carecycle.timeoutMs, 15_000),
    network: { proxy: config.carecycle.proxy, caFile: config.carecycle.caFile },
    requestsPerMinute: config.carecycle.requestsPerMinute,
    schema: config.state.schema,
  };
  let client: pg.Client | undefined;
  const connected = await Promise.resolve()
    .then(async () => {
      client = new pg.Client(pgConfig(config, 'state', { application_name: 'carecycle-sync doctor', connectionTimeoutMillis: 10_000 }));
      await client.connect();
      return true;
    })
    .catch(() => false);
  try {
    return await probeWithinBudget(probe, connected ? client : undefined);
  } finally {
    if (connected) await client?.end().catch(() => undefined);
  }
}

export async function runDoctor(config: Config, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const checks = [...(await sourceChecks(config)), ...(await stateChecks(config))];
  if (!opts.skipApi) checks.push(await apiCheck(config));
  return report(checks);
}
