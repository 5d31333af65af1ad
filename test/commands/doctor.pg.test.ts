import { describe, it, expect, inject, afterAll, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from '../harness/db.js';
import { crmDatabase, crmSchemaSql } from '../harness/fixtures.js';
import { startCluster } from '../harness/pg-cluster.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { runSetup } from '../../src/commands/setup.js';
import { runDoctor, formatReport, type DoctorReport } from '../../src/commands/doctor/index.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { cliArgs } from '../harness/cli-bundle.js';

const KEY = 'cc_doctor_test_key_123';

function configFor(url: string, baseUrl = 'http://127.0.0.1:9', extra: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ path: 'config/demo.yaml', env: { DATABASE_URL: url, CARECYCLE_API_KEY: KEY, CARECYCLE_BASE_URL: baseUrl, ...extra } })
    .config;
}
const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name);
const failed = (r: DoctorReport) => r.checks.filter((c) => !c.ok).map((c) => c.name);

let standIn: StandIn;
const roles: string[] = [];
beforeAll(async () => {
  standIn = await startStandIn({ apiKey: KEY });
});
afterAll(async () => {
  await standIn.close();
  for (const r of roles) await sql(inject('pgUrl'), `DROP ROLE IF EXISTS ${r}`).catch(() => undefined);
});

describe('doctor', () => {
  let healthyUrl: string;

  it('passes every check on a set-up database with a valid key (one API request spent)', async () => {
    healthyUrl = await crmDatabase('doctor-healthy');
    const config = configFor(healthyUrl, standIn.url);
    await runSetup(config);
    const before = standIn.requests.length;
    const r = await runDoctor(config);
    expect(failed(r), formatReport(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(check(r, 'wal_level')?.detail).toBe('logical');
    expect(check(r, 'publication carecycle_sync covers public.policies')?.ok).toBe(true);
    expect(check(r, 'replica identity of public.customers')?.detail).toMatch(/DEFAULT \(primary key\)/);
    expect(check(r, 'slot carecycle_sync')?.detail).toMatch(/exists, idle/);
    expect(check(r, 'config vs catalog')?.ok).toBe(true);
    expect(check(r, 'CareCycle API')?.detail).toMatch(/key accepted; this probe used 1 request/);
    expect(standIn.requests.length - before).toBe(1);
    await sql(healthyUrl, `SELECT pg_drop_replication_slot('carecycle_sync')`);
  });

  it('reports a rejected key (401) and an unreachable API, each with a fix, without printing the key', async () => {
    const url = healthyUrl;
    let r = await runDoctor(configFor(url, standIn.url, { CARECYCLE_API_KEY: 'cc_wrong_key_456' }));
    const api = check(r, 'CareCycle API')!;
    expect(api.ok).toBe(false);
    expect(api.detail).toMatch(/rejected the API key: HTTP 401/);
    expect(api.fix).toMatch(/CARECYCLE_API_KEY/);
    expect(JSON.stringify(r)).not.toContain('cc_wrong_key_456');
    r = await runDoctor(configFor(url, 'http://127.0.0.1:9'));
    expect(check(r, 'CareCycle API')?.detail).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9\/v2\/sync\/aca/);
  });

  it('reports a missing publication, slot and state schema before setup, with the fixes', async () => {
    const url = await crmDatabase('doctor-nosetup');
    const r = await runDoctor(configFor(url), { skipApi: true });
    expect(r.ok).toBe(false);
    const pub = check(r, 'publication carecycle_sync')!;
    expect(pub).toMatchObject({ ok: false, detail: 'does not exist' });
    expect(pub.fix).toMatch(/^carecycle-sync setup/);
    expect(pub.fix).toContain(
      `CREATE PUBLICATION "carecycle_sync" FOR TABLE "public"."customers", "public"."policies", "public"."customer_phones" WITH (publish = 'insert, update, delete, truncate');`,
    );
    expect(check(r, 'slot carecycle_sync')).toMatchObject({ ok: false, fix: 'carecycle-sync setup' });
    expect(check(r, 'state schema carecycle_sync')).toMatchObject({ ok: false, fix: 'carecycle-sync setup' });
    // what does not depend on setup still passes
    expect(check(r, 'wal_level')?.ok).toBe(true);
    expect(check(r, 'config vs catalog')?.ok).toBe(true);
  });

  it('reports a missing SELECT grant and a missing REPLICATION attribute for a non-superuser role', async () => {
    const url = await crmDatabase('doctor-grants');
    await runSetup(configFor(url));
    const role = `ccs_doctor_${process.pid}`;
    roles.push(role);
    await sql(
      url,
      `CREATE ROLE ${role} LOGIN; GRANT SELECT ON customers, customer_phones TO ${role}; GRANT USAGE ON SCHEMA carecycle_sync TO ${role}`,
    );
    const u = new URL(url);
    u.username = role;
    try {
      const r = await runDoctor(configFor(u.toString()), { skipApi: true });
      const grant = check(r, 'SELECT on public.policies')!;
      expect(grant.ok).toBe(false);
      expect(grant.fix).toBe(`GRANT SELECT ON "public"."policies" TO ${role};`);
      expect(check(r, 'SELECT on public.customers')?.ok).toBe(true);
      expect(check(r, 'replication privilege')).toMatchObject({
        ok: false,
        fix: expect.stringContaining(`ALTER ROLE ${role} REPLICATION;`),
      });
      expect(check(r, 'config mapping')?.detail).toMatch(/needs SELECT/);
      const state = check(r, 'state schema carecycle_sync')!;
      expect(state.detail).toMatch(/cannot read and write its tables/);
      expect(state.fix).toContain(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "carecycle_sync" TO ${role};`);

      // the fixes it printed work
      await sql(url, grant.fix!);
      await sql(url, state.fix!);
      await sql(url, `ALTER ROLE ${role} REPLICATION`);
      const again = await runDoctor(configFor(u.toString()), { skipApi: true });
      expect(failed(again), formatReport(again)).toEqual([]);
      expect(check(again, 'config vs catalog')?.ok).toBe(true);
    } finally {
      await sql(url, `SELECT pg_drop_replication_slot('carecycle_sync')`);
      await sql(
        url,
        `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; REVOKE ALL ON SCHEMA carecycle_sync FROM ${role}; DROP OWNED BY ${role}`,
      );
    }
  });

  it('reports replica identity NOTHING, an incomplete publication and a column that does not exist', async () => {
    const url = await crmDatabase('doctor-identity');
    await runSetup(configFor(url));
    await sql(
      url,
      `ALTER TABLE policies REPLICA IDENTITY NOTHING; ALTER PUBLICATION carecycle_sync SET (publish = 'insert'); ALTER PUBLICATION carecycle_sync DROP TABLE customer_phones`,
    );
    await sql(url, `ALTER TABLE customers RENAME COLUMN zip TO postal`);
    try {
      const r = await runDoctor(configFor(url), { skipApi: true });
      expect(check(r, 'replica identity of public.policies')).toMatchObject({
        ok: false,
        fix: expect.stringContaining('ALTER TABLE "public"."policies" REPLICA IDENTITY FULL;'),
      });
      expect(check(r, 'publication carecycle_sync')).toMatchObject({
        ok: false,
        detail: expect.stringContaining('does not publish update, delete'),
      });
      expect(check(r, 'publication carecycle_sync covers public.customer_phones')).toMatchObject({
        ok: false,
        fix: expect.stringContaining('ALTER PUBLICATION "carecycle_sync" ADD TABLE "public"."customer_phones";'),
      });
      const zip = r.checks.find((c) => c.name.startsWith('config customers.fields.postalCode'));
      expect(zip?.ok, formatReport(r)).toBe(false);
      expect(zip?.detail).toMatch(/zip/);
    } finally {
      await sql(url, `SELECT pg_drop_replication_slot('carecycle_sync')`);
    }
  });

  // The CLI wrapper does not depend on the server version: run it on the first major only.
  const firstMajor = (process.env.PG_TEST_MAJORS ?? '15,18').split(',')[0]!.trim();
  it.runIf(inject('pgVersion').split('.')[0] === firstMajor)(
    'exits 1 with --json on a broken setup, 0 on a healthy one (CLI)',
    { timeout: 60_000 },
    async () => {
      const url = await crmDatabase('doctor-cli');
      const run = promisify(execFile);
      const env = { ...process.env, DATABASE_URL: url, CARECYCLE_API_KEY: KEY, CARECYCLE_BASE_URL: standIn.url, NO_COLOR: '1' };
      const args = cliArgs('doctor', '--config', 'config/demo.yaml');
      const broken = await run(process.execPath, [...args, '--json', '--skip-api'], { env }).then(
        () => ({ code: 0, stdout: '' }),
        (e: { code: number; stdout: string }) => e,
      );
      expect(broken.code).toBe(1);
      const parsed = JSON.parse(broken.stdout) as DoctorReport;
      expect(parsed.ok).toBe(false);
      expect(parsed.checks.find((c) => c.name === 'slot carecycle_sync')?.fix).toBe('carecycle-sync setup');
      await runSetup(configFor(url));
      try {
        const ok = await run(process.execPath, args, { env });
        expect(ok.stdout).toMatch(/all \d+ checks passed/);
        expect(ok.stdout).not.toContain(KEY);
      } finally {
        await sql(url, `SELECT pg_drop_replication_slot('carecycle_sync')`);
      }
    },
  );
});

describe('doctor on a server with wal_level=replica', () => {
  it('reports wal_level with the ALTER SYSTEM fix', { timeout: 60_000 }, async () => {
    await using cluster = await startCluster({ binDir: inject('pgBinDir'), settings: { wal_level: 'replica' } });
    await sql(cluster.url, crmSchemaSql());
    const r = await runDoctor(configFor(cluster.url), { skipApi: true });
    const wal = check(r, 'wal_level')!;
    expect(wal.ok).toBe(false);
    expect(wal.detail).toBe('wal_level is replica; logical replication needs logical');
    expect(wal.fix).toMatch(/^ALTER SYSTEM SET wal_level = logical; {2}-- then restart Postgres/);
    expect(formatReport(r)).toMatch(/\[FAIL\] wal_level/);
  });
});
