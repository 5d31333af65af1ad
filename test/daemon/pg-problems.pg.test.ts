/**
 * Postgres errors that only a person can fix, against `carecycle-sync run` as a child process:
 * the source role's password changed under the daemon (28P01) and a revoked grant (42501) turn
 * /readyz 503 naming the connection, the SQLSTATE and the fix, `status` shows them, and the
 * daemon goes on by itself once they are fixed, without a restart. A dropped connection
 * (pg_terminate_backend) is still only retried, never reported as something to fix.
 *
 * On a private cluster: the harness's servers trust every login, and these scenarios need a
 * password that can be wrong (pg_hba.conf asks every role but the superuser for it).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { startCluster, type PgCluster } from '../harness/pg-cluster.js';
import { sql } from '../harness/db.js';
import { cli } from '../harness/fixtures.js';
import { seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from './daemon-child.js';

const binDir = inject('pgBinDir');
const KEY = 'cc_pg_problems_0123456789abcdef';
const ROLE = 'crm_sync';
const PASSWORD = 'right-password';

type Check = { ok: boolean; detail?: string };

describe.skipIf(!binDir)('Postgres problems to fix, in /readyz and status', { timeout: 120_000 }, () => {
  let cluster: PgCluster;
  let adminUrl: string;
  let roleUrl: string;
  let standIn: StandIn;
  let configPath: string;
  let daemon: DaemonChild;

  const admin = (text: string) => sql(adminUrl, text);
  const dropConnections = () => admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
  const postgresCheck = async (): Promise<{ status: number; check: Check | undefined }> => {
    const r = await daemon.readyz();
    return { status: r.status, check: r.body.checks.postgres };
  };
  const status = async () => {
    const r = await cli(['status', '--json', '--config', configPath], { env: { DATABASE_URL: roleUrl, STATE_DATABASE_URL: '' } });
    return JSON.parse(r.stdout) as { pgProblems: Array<{ component: string; code: string; message: string; fix: string }> };
  };
  const errorLines = (code: string) => daemon.logs.filter((l) => l.level === 50 && l.code === code);
  const arrives = (key: string, firstName: string) =>
    waitFor(
      `customer ${key} at the stand-in as ${firstName}`,
      () => standIn.store.byExternalId(key)?.fields.firstName === firstName,
      30_000,
      100,
    );

  beforeAll(async () => {
    cluster = await startCluster({ binDir: binDir! });
    await sql(cluster.url, 'CREATE DATABASE crm');
    adminUrl = cluster.url.replace(/\/postgres$/, '/crm');
    await seedCrm(adminUrl, 5);
    await admin(
      `CREATE ROLE ${ROLE} LOGIN REPLICATION PASSWORD '${PASSWORD}';
       GRANT USAGE ON SCHEMA public TO ${ROLE}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLE}`,
    );
    const hba = join(cluster.dataDir, 'pg_hba.conf');
    writeFileSync(
      hba,
      [
        'local all postgres trust',
        'host all postgres 127.0.0.1/32 trust',
        'host replication postgres 127.0.0.1/32 trust',
        'host all all 127.0.0.1/32 scram-sha-256',
        'host replication all 127.0.0.1/32 scram-sha-256',
        '',
      ].join('\n'),
    );
    await admin('SELECT pg_reload_conf()');
    const u = new URL(adminUrl);
    u.username = ROLE;
    u.password = PASSWORD;
    roleUrl = u.toString();
    standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    // The state database is the superuser's: only the source connection's role changes here.
    configPath = demoConfigFile((raw) => {
      raw.state.url = adminUrl;
      raw.source.heartbeatSeconds = 1;
      raw.sync.flushIntervalMs = 50;
      raw.carecycle.requestsPerMinute = 6000;
    });
    const setup = await cli(['setup', '--config', configPath], { env: { DATABASE_URL: adminUrl, STATE_DATABASE_URL: '' } });
    expect(setup.code, setup.stderr).toBe(0);
    daemon = startDaemonChild(configPath, { DATABASE_URL: roleUrl, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY }, [
      '--no-setup',
      '--no-backfill',
    ]);
    await waitFor('/readyz 200', async () => (await daemon.readyz()).status === 200, 30_000, 100);
  }, 90_000);

  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited();
    await standIn?.close();
    await cluster?.destroy();
  });

  it('a dropped connection is only retried: nothing to fix is reported', async () => {
    const seen: Check[] = [];
    await dropConnections();
    await daemon.sawLog('capture resuming', (l) => l.msg === 'capture interrupted; resuming from the checkpoint');
    await waitFor(
      '/readyz 200 again',
      async () => {
        const r = await postgresCheck();
        if (r.check) seen.push(r.check);
        return r.status === 200;
      },
      30_000,
      100,
    );
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((c) => !c.ok)).toEqual([]);
    expect(daemon.logs.filter((l) => l.level === 50 && l.code)).toEqual([]);
  });

  it('a wrong source password (28P01) shows in /readyz and status with its fix, and the daemon recovers once it matches again', async () => {
    await admin(`ALTER ROLE ${ROLE} PASSWORD 'rotated-elsewhere'`);
    await dropConnections();
    let check: Check | undefined;
    await waitFor(
      '/readyz to name 28P01',
      async () => {
        const r = await postgresCheck();
        check = r.check;
        return r.status === 503 && r.check?.ok === false;
      },
      30_000,
      100,
    );
    expect(check!.detail).toMatch(/^source connection: password authentication failed for user "crm_sync" \(SQLSTATE 28P01/);
    expect(check!.detail).toContain('fix: the password in source.url (DATABASE_URL) is wrong');
    const s = await status();
    expect(s.pgProblems.map((p) => [p.component, p.code])).toEqual([
      ['status', '28P01'],
      ['capture', '28P01'],
    ]);
    expect((await cli(['status', '--config', configPath], { env: { DATABASE_URL: roleUrl } })).stdout).toContain('FIX NEEDED');
    // doctor reads the same table: the failed connection comes with the same fix.
    const doctor = await cli(['doctor', '--skip-api', '--json', '--config', configPath], { env: { DATABASE_URL: roleUrl } });
    const connect = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; detail: string; fix?: string }> }).checks.find(
      (c) => c.name === 'connect to source database',
    );
    expect(connect?.detail).toContain('SQLSTATE 28P01');
    expect(connect?.fix).toContain('the password in source.url (DATABASE_URL) is wrong');

    await admin(`ALTER ROLE ${ROLE} PASSWORD '${PASSWORD}'`);
    await waitFor('/readyz 200 without a restart', async () => (await daemon.readyz()).status === 200, 45_000, 200);
    expect(daemon.child.exitCode).toBeNull();
    // Logged once at error level, however many attempts failed meanwhile.
    expect(errorLines('28P01')).toHaveLength(1);
    expect((await status()).pgProblems).toEqual([]);
    await admin(`UPDATE customers SET first_name = 'Rotated' WHERE id = 1`);
    await arrives('1', 'Rotated');
  });

  it('a revoked grant (42501) shows as a problem to fix until it is granted again', async () => {
    await admin(`REVOKE SELECT ON customers FROM ${ROLE}`);
    await admin(`UPDATE customers SET first_name = 'Revoked' WHERE id = 2`);
    let check: Check | undefined;
    await waitFor(
      '/readyz to name 42501',
      async () => {
        check = (await postgresCheck()).check;
        return check?.ok === false;
      },
      30_000,
      100,
    );
    expect(check!.detail).toMatch(/^source connection: permission denied for table customers \(SQLSTATE 42501/);
    expect(check!.detail).toContain('carecycle-sync doctor');
    expect((await status()).pgProblems.map((p) => [p.component, p.code])).toEqual([['delivery', '42501']]);
    await admin(`GRANT SELECT ON customers TO ${ROLE}`);
    await arrives('2', 'Revoked');
    await waitFor('/readyz 200', async () => (await daemon.readyz()).status === 200, 30_000, 200);
    expect(errorLines('42501')).toHaveLength(1);
  });
});
