/**
 * CareCycle requests through an outbound proxy: a local CONNECT proxy that logs every tunnel,
 * in front of the stand-in behind TLS with a certificate from a test CA, reached under a name
 * that does not resolve (api.carecycle.test), so only the proxy can have found it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { promisify } from 'node:util';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { createDeliveryClient } from '../../src/deliver/index.js';
import { checkApi } from '../../src/commands/doctor/api-check.js';
import type { DoctorReport } from '../../src/commands/doctor/index.js';
import { cliArgs } from '../harness/cli-bundle.js';
import { startConnectProxy, startTlsFront, type TestProxy } from '../harness/connect-proxy.js';
import { testTempDir } from '../harness/tmp.js';
import { makeCa, makeCert, type Pem } from '../harness/tls-certs.js';
import { API_KEY, capturingLogger, record } from './helpers.js';

const HOST = 'api.carecycle.test';
const BASE = `https://${HOST}`;
const run = promisify(execFile);

let ca: Pem;
let standIn: StandIn;
let front: Awaited<ReturnType<typeof startTlsFront>>;
let proxy: TestProxy;
let authProxy: TestProxy;

beforeAll(async () => {
  const dir = testTempDir('ccs-proxy-');
  ca = makeCa(dir, 'inspecting-proxy-ca');
  const cert = makeCert(dir, ca, 'api', { cn: HOST, sans: [`DNS:${HOST}`] });
  standIn = await startStandIn({ apiKey: API_KEY, rpm: 1000, windowMs: 1000 });
  front = await startTlsFront(Number(new URL(standIn.url).port), cert);
  proxy = await startConnectProxy({ [`${HOST}:443`]: front.port });
  authProxy = await startConnectProxy({ [`${HOST}:443`]: front.port }, { auth: 'agency:pa55-w0rd' });
});
afterAll(async () => {
  await proxy?.close();
  await authProxy?.close();
  await front?.close();
  await standIn?.close();
});

async function doctorJson(env: NodeJS.ProcessEnv): Promise<{ report: DoctorReport; out: string }> {
  const full = {
    PATH: process.env.PATH,
    CARECYCLE_TEST_TMP: process.env.CARECYCLE_TEST_TMP,
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    CARECYCLE_API_KEY: API_KEY,
    CARECYCLE_BASE_URL: BASE,
    NO_COLOR: '1',
    ...env,
  };
  const r = await run(process.execPath, cliArgs('doctor', '--config', 'config/demo.yaml', '--json'), { env: full }).then(
    (x) => x,
    (e: { stdout: string; stderr: string }) => e,
  );
  return { report: JSON.parse(r.stdout) as DoctorReport, out: r.stdout + r.stderr };
}
const apiLine = (r: DoctorReport) => r.checks.find((c) => c.name === 'CareCycle API')!;

describe('CareCycle requests through a proxy', () => {
  it('the API host does not resolve here: only the proxy can reach it', async () => {
    await expect(lookup(HOST)).rejects.toThrow();
  });

  it('delivers records through the proxy over TLS verified with carecycle.caFile', async () => {
    const logs = capturingLogger();
    const client = createDeliveryClient({
      baseUrl: BASE,
      apiKey: API_KEY,
      requestsPerMinute: 1000,
      windowMs: 1000,
      timeoutMs: 5000,
      log: logs.log,
      network: { proxy: { httpsUrl: proxy.url }, caFile: ca.cert },
    });
    const before = proxy.log.length;
    try {
      const out = await client.deliver([
        { key: 'p1', record: record('p1') },
        { key: 'p2', record: record('p2') },
      ]);
      expect(out.map((o) => o.status)).toEqual(['delivered', 'delivered']);
    } finally {
      await client.close();
    }
    expect(standIn.store.byExternalId('p1')).toBeDefined();
    expect(proxy.log.slice(before)).toEqual([{ method: 'CONNECT', target: `${HOST}:443` }]);
  });

  it('without the proxy CA the TLS-inspected connection is refused; with it doctor passes and says which proxy', async () => {
    const bad = await checkApi({ baseUrl: BASE, apiKey: API_KEY, network: { proxy: { httpsUrl: proxy.url } } });
    expect(bad.ok).toBe(false);
    expect(bad.detail).toMatch(
      new RegExp(`^cannot reach ${BASE}/v2/sync/aca through the proxy ${proxy.url}: .*(self.signed|issuer|verify)`, 'i'),
    );
    expect(bad.fix).toMatch(/carecycle\.caFile or NODE_EXTRA_CA_CERTS/);
    const good = await checkApi({ baseUrl: BASE, apiKey: API_KEY, network: { proxy: { httpsUrl: proxy.url }, caFile: ca.cert } });
    expect(good).toMatchObject({
      ok: true,
      detail: expect.stringMatching(new RegExp(`^${BASE}/v2/sync/aca through the proxy ${proxy.url} reachable, key accepted`)),
    });
  });

  it('sends the proxy credentials of the URL and never shows them', async () => {
    const withAuth = authProxy.url.replace('http://', 'http://agency:pa55-w0rd@');
    const r = await checkApi({ baseUrl: BASE, apiKey: API_KEY, network: { proxy: { httpsUrl: withAuth }, caFile: ca.cert } });
    expect(r.ok, r.detail).toBe(true);
    expect(authProxy.log.at(-1)).toEqual({
      method: 'CONNECT',
      target: `${HOST}:443`,
      auth: `Basic ${Buffer.from('agency:pa55-w0rd').toString('base64')}`,
    });
    expect(JSON.stringify(r)).not.toContain('pa55-w0rd');
    const refused = await checkApi({ baseUrl: BASE, apiKey: API_KEY, network: { proxy: { httpsUrl: authProxy.url }, caFile: ca.cert } });
    expect(refused.detail).toMatch(/407/);
  });

  it('the CLI reads HTTPS_PROXY and NODE_EXTRA_CA_CERTS from the environment', async () => {
    const before = proxy.log.length;
    const { report, out } = await doctorJson({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca.cert });
    expect(apiLine(report), out).toMatchObject({
      ok: true,
      detail: expect.stringContaining(`through the proxy ${proxy.url} reachable, key accepted`),
    });
    expect(proxy.log.slice(before)).toEqual([{ method: 'CONNECT', target: `${HOST}:443` }]);
  });

  it('NO_PROXY sends the request direct: the proxy sees nothing and the name does not resolve', async () => {
    const before = proxy.log.length;
    const { report, out } = await doctorJson({
      https_proxy: proxy.url,
      NODE_EXTRA_CA_CERTS: ca.cert,
      NO_PROXY: 'localhost,.carecycle.test',
    });
    const line = apiLine(report);
    expect(line.ok, out).toBe(false);
    expect(line.detail).toMatch(new RegExp(`^cannot reach ${BASE}/v2/sync/aca: .*(ENOTFOUND|EAI_AGAIN)`));
    expect(proxy.log.length - before).toBe(0);
  });

  it('a bad proxy URL in the environment is a config error naming the key and the variable (exit 2); check-config hides proxy credentials', async () => {
    const r = await run(process.execPath, cliArgs('check-config', '--config', 'config/demo.yaml'), {
      env: { PATH: process.env.PATH, DATABASE_URL: 'postgres://h/db', CARECYCLE_API_KEY: API_KEY, HTTPS_PROXY: 'socks4://p:1080' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /carecycle\.proxy\.httpsUrl: an http:\/\/ or https:\/\/ proxy URL, found "socks4:\/\/p:1080" \(from HTTPS_PROXY\)/,
    );
    const ok = await run(process.execPath, cliArgs('check-config', '--config', 'config/demo.yaml'), {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: 'postgres://h/db',
        CARECYCLE_API_KEY: API_KEY,
        https_proxy: 'http://agency:pa55-w0rd@proxy.corp:3128',
        no_proxy: '.internal',
      },
    });
    expect(ok.stdout).toMatch(/httpsUrl: http:\/\/agency:\[REDACTED\]@proxy\.corp:3128/);
    expect(ok.stdout).toMatch(/noProxy: \.internal/);
    expect(ok.stdout + ok.stderr).not.toContain('pa55-w0rd');
  });
});
