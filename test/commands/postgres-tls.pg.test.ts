/**
 * TLS to Postgres against a real server started with ssl=on and certificates made here with
 * openssl: the daemon streams and delivers over verify-full, sslmode=require means what it means
 * in libpq, a wrong CA and a certificate for another host fail doctor with exit 1 and a message
 * saying what to change, and a client certificate logs in where pg_hba.conf demands one.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { loadConfig } from '../../src/config/load.js';
import { pgConfig } from '../../src/config/pg-connection.js';
import { runDoctor, type DoctorReport } from '../../src/commands/doctor/index.js';
import { seedCrm } from '../backfill/fixture.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { sql } from '../harness/db.js';
import { startCluster, type PgCluster } from '../harness/pg-cluster.js';
import { makeCa, makeCert, type Pem } from '../harness/tls-certs.js';
import { startConnectProxy, startTlsFront } from '../harness/connect-proxy.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from '../daemon/daemon-child.js';
import { expectStandInMatchesCrm } from '../daemon/standin-vs-crm.js';
import { waitFor } from '../source/helpers.js';

const KEY = 'cc_tls_test_key_0123456789';
const API_HOST = 'api.carecycle.test';
const run = promisify(execFile);

let dir: string;
let ca: Pem;
let wrongCa: Pem;
let other: Pem;
let cluster: PgCluster;
let base: string;
let standIn: StandIn;
let daemon: DaemonChild | undefined;

/** The TLS cluster's database `crm` with URL parameters. */
const crmUrl = (params: Record<string, string>) => `${base}?${new URLSearchParams(params).toString()}`;
const configFor = (url: string) =>
  loadConfig({ path: 'config/demo.yaml', env: { DATABASE_URL: url, CARECYCLE_API_KEY: KEY, CARECYCLE_BASE_URL: standIn.url } }).config;
const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name);

async function doctorCli(url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    DATABASE_URL: url,
    CARECYCLE_API_KEY: KEY,
    CARECYCLE_BASE_URL: standIn.url,
    NO_COLOR: '1',
    STATE_DATABASE_URL: '',
  };
  return run(process.execPath, cliArgs('doctor', '--config', 'config/demo.yaml', '--skip-api'), { env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

/** Serves another certificate from now on (Postgres reloads its TLS files on SIGHUP). */
async function serveCert(pem: Pem): Promise<void> {
  await sql(cluster.url, `ALTER SYSTEM SET ssl_cert_file = '${pem.cert}'`);
  await sql(cluster.url, `ALTER SYSTEM SET ssl_key_file = '${pem.key}'`);
  await sql(cluster.url, 'SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 500));
}

const hasBinaries = Boolean(inject('pgBinDir'));

describe.runIf(hasBinaries)('Postgres over TLS', () => {
  beforeAll(async () => {
    cluster = await startCluster({ binDir: inject('pgBinDir') });
    // Inside the cluster's own directory, which the server's user can reach and which goes with it.
    dir = join(dirname(cluster.dataDir), 'tls');
    mkdirSync(dir);
    ca = makeCa(dir, 'crm-ca');
    wrongCa = makeCa(dir, 'some-other-ca');
    const server = makeCert(dir, ca, 'server', { cn: '127.0.0.1', sans: ['DNS:localhost', 'IP:127.0.0.1'] });
    other = makeCert(dir, ca, 'other-host', { cn: 'db.other.example', sans: ['DNS:db.other.example'] });
    makeCert(dir, ca, 'client', { cn: 'tls_client', client: true });
    // Postgres wants its key private and owned by its own user; as root the server runs as postgres.
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.key')) chmodSync(join(dir, f), 0o600);
      if (process.getuid?.() === 0) chownSync(join(dir, f), statSync(cluster.dataDir).uid, statSync(cluster.dataDir).gid);
    }
    await sql(cluster.url, `ALTER SYSTEM SET ssl_ca_file = '${ca.cert}'`);
    await serveCert(server);
    await sql(cluster.url, 'ALTER SYSTEM SET ssl = on');
    await sql(cluster.url, 'SELECT pg_reload_conf()');
    await waitFor(
      'the server to accept TLS',
      async () => {
        const c = new pg.Client({ connectionString: cluster.url, ssl: { rejectUnauthorized: false } });
        return c.connect().then(
          () => c.end().then(() => true),
          () => false,
        );
      },
      10_000,
    );
    await sql(cluster.url, 'CREATE DATABASE crm');
    base = cluster.url.replace(/\/postgres$/, '/crm');
    await seedCrm(base, 40);
    standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  });

  afterAll(async () => {
    if (daemon) {
      daemon.kill('SIGKILL');
      await daemon.exited();
    }
    await standIn?.close();
    await cluster?.destroy();
  });

  it(
    'streams over verify-full against the right CA and delivers through an HTTPS proxy; every daemon connection is encrypted',
    { timeout: 90_000 },
    async () => {
      const url = crmUrl({ sslmode: 'verify-full', sslrootcert: ca.cert });
      // CareCycle behind TLS with a certificate from the same test CA, under a name only the proxy knows.
      const api = makeCert(dir, ca, 'api', { cn: API_HOST, sans: [`DNS:${API_HOST}`] });
      const front = await startTlsFront(Number(new URL(standIn.url).port), api);
      const proxy = await startConnectProxy({ [`${API_HOST}:443`]: front.port });
      const config = demoConfigFile((raw) => {
        raw.carecycle.requestsPerMinute = 6000;
        raw.carecycle.caFile = ca.cert;
      });
      const env = { DATABASE_URL: url, CARECYCLE_BASE_URL: `https://${API_HOST}`, CARECYCLE_API_KEY: KEY, HTTPS_PROXY: proxy.url };
      daemon = startDaemonChild(config, env);
      try {
        await runAndCheck(daemon);
        expect(proxy.log.length).toBeGreaterThan(0);
        expect(new Set(proxy.log.map((l) => `${l.method} ${l.target}`))).toEqual(new Set([`CONNECT ${API_HOST}:443`]));
      } finally {
        daemon.kill('SIGKILL');
        await daemon.exited();
        daemon = undefined;
        await proxy.close();
        await front.close();
      }
    },
  );

  async function runAndCheck(daemon: DaemonChild): Promise<void> {
    await expectStandInMatchesCrm(standIn, base, { timeoutMs: 45_000 });
    expect(standIn.store.all()).toHaveLength(40);
    // A live change arrives through the (TLS) replication connection.
    await sql(base, `UPDATE customers SET first_name = 'Overtls' WHERE id = 3`);
    await waitFor('the live change to reach the stand-in', () => standIn.store.byExternalId('3')?.fields.firstName === 'Overtls', 30_000);
    const conns = await sql<{ app: string; ssl: boolean; backend: string }>(
      cluster.url,
      `SELECT a.application_name AS app, s.ssl, a.backend_type AS backend
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
        WHERE a.application_name LIKE 'carecycle-sync%' ORDER BY 1`,
    );
    const apps = conns.map((c) => c.app);
    expect(apps).toEqual(expect.arrayContaining(['carecycle-sync capture', 'carecycle-sync lock', 'carecycle-sync assemble']));
    expect(conns.find((c) => c.app === 'carecycle-sync capture')?.backend).toBe('walsender');
    expect(
      conns.filter((c) => !c.ssl),
      'connections without TLS',
    ).toEqual([]);
    daemon.kill('SIGTERM');
    expect((await daemon.exited()).code).toBe(0);
  }

  it('doctor reports the TLS version and that the server was verified (verify-full), or not (require)', async () => {
    let r = await runDoctor(configFor(crmUrl({ sslmode: 'verify-full', sslrootcert: ca.cert })), { skipApi: true });
    const source = check(r, 'TLS to source database')!;
    expect(source.ok).toBe(true);
    expect(source.warn).toBeUndefined();
    expect(source.detail).toMatch(
      new RegExp(`^encrypted \\(TLSv1\\.[23]\\); server certificate verified against ${ca.cert}, host name 127\\.0\\.0\\.1 matches`),
    );
    expect(check(r, 'TLS to state database')?.ok).toBe(true);
    r = await runDoctor(configFor(crmUrl({ sslmode: 'require' })), { skipApi: true });
    expect(check(r, 'TLS to source database')).toMatchObject({
      ok: true,
      warn: true,
      detail: expect.stringMatching(/^encrypted \(TLSv1\.[23]\); server certificate not verified \(sslmode=require\)/),
    });
    r = await runDoctor(configFor(base), { skipApi: true });
    expect(check(r, 'TLS to source database')).toMatchObject({ ok: true, detail: expect.stringMatching(/^not encrypted/) });
    // A separate state database with its TLS settings in state.tls, not in its URL.
    const separate = configFor(base);
    separate.state.url = base.replace('127.0.0.1', 'localhost');
    separate.state.tls = { mode: 'verify-full', rootCert: ca.cert };
    r = await runDoctor(separate, { skipApi: true });
    expect(check(r, 'TLS to state database')?.detail).toMatch(
      new RegExp(`^encrypted \\(TLSv1\\.[23]\\); server certificate verified against ${ca.cert}, host name localhost matches`),
    );
  });

  it('sslmode=require in the URL encrypts without verifying, as in libpq (node-postgres alone would verify and fail here)', async () => {
    const url = crmUrl({ sslmode: 'require' });
    // What node-postgres does with the same URL by itself: it treats require as verify-full.
    const raw = new pg.Client({ connectionString: url });
    await expect(raw.connect()).rejects.toThrow(/self.signed|unable to verify|issuer/i);
    await raw.end().catch(() => undefined);
    const c = new pg.Client(pgConfig(configFor(url), 'source', {}));
    await c.connect();
    try {
      const [row] = (await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows;
      expect(row?.ssl).toBe(true);
    } finally {
      await c.end();
    }
  });

  it('a wrong CA fails doctor with exit 1, naming sslrootcert, the file and what to change, without a stack trace', async () => {
    const r = await doctorCli(crmUrl({ sslmode: 'verify-full', sslrootcert: wrongCa.cert }));
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /\[FAIL\] TLS to source database\s+the server certificate of 127\.0\.0\.1 is not signed by a CA in sslrootcert /,
    );
    expect(r.stdout).toContain(wrongCa.cert);
    expect(r.stdout).toMatch(/fix: set sslrootcert in source\.url to the CA certificate that signed the server's certificate/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('other commands explain the same TLS failure: setup exits 1 naming sslrootcert, without a stack trace', async () => {
    const env = {
      ...process.env,
      DATABASE_URL: crmUrl({ sslmode: 'verify-full', sslrootcert: wrongCa.cert }),
      CARECYCLE_API_KEY: KEY,
      NO_COLOR: '1',
      STATE_DATABASE_URL: '',
    };
    const r = await run(process.execPath, cliArgs('setup', '--config', 'config/demo.yaml'), { env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is not signed by a CA in sslrootcert ${wrongCa.cert}`);
    expect(r.stderr).toMatch(/fix: set sslrootcert in source\.url to the CA certificate/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('run exits 1 when it cannot verify the server, saying why, without a stack trace', { timeout: 60_000 }, async () => {
    const config = demoConfigFile(() => undefined);
    const child = startDaemonChild(
      config,
      {
        DATABASE_URL: crmUrl({ sslmode: 'verify-full', sslrootcert: wrongCa.cert }),
        CARECYCLE_BASE_URL: standIn.url,
        CARECYCLE_API_KEY: KEY,
      },
      ['--no-setup'],
    );
    try {
      expect((await child.exited()).code).toBe(1);
      expect(child.tail()).toContain(`is not signed by a CA in sslrootcert ${wrongCa.cert}`);
      expect(child.tail()).toMatch(/fix: set sslrootcert in source\.url/);
      expect(child.tail()).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('init reads the CRM over verify-full and proves its proposal over the same TLS settings', { timeout: 60_000 }, async () => {
    const out = join(dir, 'init-proposal.yaml');
    const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: '', CARECYCLE_SYNC_CONFIG: '' };
    const r = await run(
      process.execPath,
      cliArgs('init', '--database-url', crmUrl({ sslmode: 'verify-full', sslrootcert: ca.cert }), '--out', out),
      { env },
    ).then(
      (x) => ({ code: 0, ...x }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/customers:/);
    const bad = await run(process.execPath, cliArgs('init', '--database-url', crmUrl({ sslmode: 'verify-full' }), '--out', `${out}.2`), {
      env,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sslmode=verify-full needs sslrootcert/);
  });

  it('a certificate for another host fails doctor with exit 1, naming the host', async () => {
    await serveCert(other);
    try {
      const r = await doctorCli(crmUrl({ sslmode: 'verify-full', sslrootcert: ca.cert }));
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(
        /\[FAIL\] TLS to source database\s+the server certificate is not for the host 127\.0\.0\.1: .*db\.other\.example/,
      );
      expect(r.stdout).toMatch(/fix: connect with a host name the certificate carries/);
      expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
      // verify-ca checks the CA but not the name: the same server passes.
      const ok = await runDoctor(configFor(crmUrl({ sslmode: 'verify-ca', sslrootcert: ca.cert })), { skipApi: true });
      expect(check(ok, 'TLS to source database')?.detail).toMatch(/verified against .*, host name not checked \(sslmode=verify-ca\)/);
    } finally {
      await serveCert({ cert: join(dir, 'server.crt'), key: join(dir, 'server.key') });
    }
  });

  it('logs in with a client certificate from source.tls.cert and source.tls.key where pg_hba.conf demands one', async () => {
    await sql(cluster.url, `CREATE ROLE tls_client LOGIN; GRANT CONNECT ON DATABASE crm TO tls_client`);
    const hba = join(cluster.dataDir, 'pg_hba.conf');
    // The first matching line wins: put the cert rule ahead of initdb's trust lines.
    const original = execFileSync('cat', [hba]).toString();
    execFileSync('sh', [
      '-c',
      `printf 'hostssl all tls_client 127.0.0.1/32 cert\\nhost all tls_client 127.0.0.1/32 reject\\n' > ${hba}.new && cat ${hba} >> ${hba}.new && cat ${hba}.new > ${hba}`,
    ]);
    await sql(cluster.url, 'SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 500));
    try {
      const url = `postgres://tls_client@127.0.0.1:${cluster.port}/crm`;
      const withCert = loadConfig({ path: 'config/demo.yaml', env: { DATABASE_URL: url, CARECYCLE_API_KEY: KEY } }).config;
      withCert.source.tls = { mode: 'verify-full', rootCert: ca.cert, cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
      const c = new pg.Client(pgConfig(withCert, 'source', {}));
      await c.connect();
      try {
        expect((await c.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u).toBe('tls_client');
      } finally {
        await c.end();
      }
      const without = new pg.Client(
        pgConfig(configFor(`${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.cert)}`), 'source', {}),
      );
      await expect(without.connect()).rejects.toThrow(/certificate/);
      await without.end().catch(() => undefined);
    } finally {
      execFileSync('sh', ['-c', `cat > ${hba}`], { input: original });
      await sql(cluster.url, 'SELECT pg_reload_conf()');
    }
  });
});
