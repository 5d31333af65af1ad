/**
 * The promise "no committed change is lost", proven against what Postgres and the stand-in hold:
 * the real `run` process streams a private Postgres while a writer commits concurrent
 * multi-table transactions (customers, policies inserted, updated, moved between customers and
 * hard-deleted, side-table rows), and at random moments the daemon is SIGKILLed and restarted,
 * one flush into the state database fails, the walsender or the slot-lock session is
 * terminated, or Postgres itself restarts. Afterwards every customer in the stand-in must equal
 * the CRM's current record and nothing may be pending.
 *
 * Seeded (KILL_TEST_SEED, printed), small by default; KILL_TEST_ROUNDS=50 for a long run (one
 * SIGKILL per round, plus random other faults).
 */
import { describe, expect, inject, it } from 'vitest';
import { startStandIn } from '../../src/carecycle/stand-in/index.js';
import { seeded } from '../deliver/helpers.js';
import { sql } from '../harness/db.js';
import { startCluster } from '../harness/pg-cluster.js';
import { seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { armPendingInsertFault } from '../source/faults.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';
import { standInDiffs } from './standin-vs-crm.js';
import { startWriter } from './kill-and-fault-writer.js';

const binDir = inject('pgBinDir');
const KEY = 'cc_kill_fault_0123456789abcdef';
const ROUNDS = Number(process.env.KILL_TEST_ROUNDS ?? 3);
const SEED = Number(process.env.KILL_TEST_SEED ?? Math.floor(Math.random() * 1e6));

type Fault = 'state-error' | 'terminate-walsender' | 'terminate-lock' | 'restart-postgres';
const FAULTS: Fault[] = ['state-error', 'terminate-walsender', 'terminate-lock', 'restart-postgres'];

describe.skipIf(!binDir)('no change lost under kills and faults', { timeout: 120_000 + ROUNDS * 20_000 }, () => {
  it(`every committed change reaches CareCycle (seed ${SEED}, ${ROUNDS} rounds)`, async () => {
    const random = seeded(SEED);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const cluster = await startCluster({ binDir });
    const standIn = await startStandIn({ apiKey: KEY, rpm: 60_000 });
    let daemon: DaemonChild | undefined;
    const counts = { kills: 0, faults: 0, byKind: {} as Record<string, number> };
    try {
      await sql(cluster.url, 'CREATE DATABASE crm');
      const url = cluster.url.replace(/\/postgres$/, '/crm');
      await seedCrm(url, 40);
      // Effective dates within the last year: a new policy makes CareCycle terminate the older
      // ones by itself, which has its own handling and tests; here only capture is on trial.
      await sql(url, `UPDATE policies SET effective_date = current_date - (id % 300)::int`);
      const config = demoConfigFile((raw) => {
        raw.source.heartbeatSeconds = 1;
        // The writer deletes policies by the dozen: the mass-cancellation rail would hold them, and
        // it has its own tests; here only capture and the queue are on trial.
        raw.sync = { ...raw.sync, flushIntervalMs: 50, safety: { maxCancellations: 'off' } };
        raw.carecycle = { ...raw.carecycle, requestsPerMinute: 60_000, timeoutMs: 3000, authRetrySeconds: 1 };
      });
      const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
      const start = async () => {
        daemon = startDaemonChild(config, env);
        await daemon.sawLog('delivery start', (l) => l.msg === 'delivery started', 60_000);
      };
      await start();
      const writer = startWriter(url, seeded(SEED + 1));

      const inject = async (fault: Fault) => {
        counts.faults++;
        counts.byKind[fault] = (counts.byKind[fault] ?? 0) + 1;
        switch (fault) {
          case 'state-error':
            return armPendingInsertFault(url, { times: 1 });
          case 'terminate-walsender':
            return sql(url, 'SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL');
          case 'terminate-lock':
            return sql(url, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted`);
          case 'restart-postgres':
            await cluster.stopServer();
            await new Promise((r) => setTimeout(r, 200 + random() * 800));
            return cluster.startServer();
        }
      };

      for (let round = 0; round < ROUNDS; round++) {
        const others = Math.floor(random() * 3);
        for (let i = 0; i < others; i++) {
          await sleep(200 + random() * 1200);
          await inject(pick(FAULTS)).catch(() => undefined);
        }
        await sleep(200 + random() * 1500);
        daemon!.kill('SIGKILL');
        await daemon!.exited();
        counts.kills++;
        await sleep(random() * 500);
        await start();
      }
      await sleep(500);
      await writer.stop();
      // Let the last daemon catch up, then compare what CareCycle holds with the CRM.
      let diffs: string[] = ['not compared yet'];
      await waitFor(
        'the stand-in to match the CRM',
        async () => {
          diffs = await standInDiffs(standIn, url).catch((err: Error) => [`comparison failed: ${err.message}`]);
          return diffs.length === 0;
        },
        90_000,
        250,
      ).catch(() => undefined);
      const crmKeys = new Set((await sql<{ id: string }>(url, 'SELECT id::text AS id FROM customers')).map((r) => r.id));
      const lost = diffs.filter((d) => d.includes('not in the stand-in') || d.includes('still pending')).length;
      const extra = standIn.store.all().filter((c) => !crmKeys.has(String(c.fields.externalId))).length;
      const wrong = diffs.length - lost;
      console.log(
        `[kill-and-fault] seed=${SEED} rounds=${ROUNDS} transactions=${writer.committed} kills=${counts.kills} faults=${counts.faults} ` +
          `(${Object.entries(counts.byKind)
            .map(([k, n]) => `${k}:${n}`)
            .join(', ')}) lost=${lost} wrong=${wrong} extra=${extra}`,
      );
      expect(diffs).toEqual([]);
      expect(extra).toBe(0);
      expect(writer.committed).toBeGreaterThan(ROUNDS * 5);
    } finally {
      daemon?.kill('SIGKILL');
      await daemon?.exited();
      await standIn.close();
      await cluster.destroy();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
