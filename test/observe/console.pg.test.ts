/**
 * The status page in a real browser against a running daemon (`carecycle-sync run` as a child
 * process, the admin token from CARECYCLE_SYNC_ADMIN_TOKEN): the figures on screen are the
 * ones `status --json` prints, a dead letter retried from the page with the token leaves the
 * list, a reason holding HTML shows as text, and a screenshot is kept under reports/. The
 * actions' answers over plain HTTP, and the read-only console of a daemon without a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { packageRoot } from '../../src/paths.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { formatCount } from '../../src/lib/units.js';
import { startHealthServer, type HealthServer } from '../../src/observe/health.js';
import { daemonConsole } from '../../src/observe/console/index.js';
import type { StatusReport } from '../../src/observe/status/collect.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { silentLogger } from '../../src/log/logger.js';
import { freshDatabase, sql } from '../harness/db.js';
import { launchChromium } from '../harness/browser.js';
import { cli, crmWithState, demoConfig, seedCrm } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from '../daemon/daemon-child.js';

const KEY = 'cc_console_test_0123456789abcdef';
const TOKEN = 'console-admin-token-0123456789';
const HOSTILE = 'phone <b>555</b> is "taken" <script>window.pwned = 1</script>';
const launched = await launchChromium();
if ('skip' in launched) console.warn(`console.pg.test: SKIPPED, cannot run the browser test: ${launched.skip}`);
const browser: Browser | undefined = 'browser' in launched ? launched.browser : undefined;

let url: string;
let standIn: StandIn;
let daemon: DaemonChild;
let configPath: string;
let env: Record<string, string>;
let base: string;

const statusJson = async (): Promise<StatusReport> => {
  const r = await cli(['status', '--json', '-c', configPath], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusReport;
};
const deadKeys = async () =>
  (await sql<{ k: string }>(url, 'SELECT customer_key AS k FROM carecycle_sync.dead_letters ORDER BY 1')).map((r) => r.k);
const post = async (path: string, body: unknown, auth?: string) => {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, auth: res.headers.get('www-authenticate') };
};

beforeAll(async () => {
  url = await freshDatabase('console');
  await seedCrm(url, 20);
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  standIn.faults.rejectRecord('5', HOSTILE).rejectRecord('6', 'policy id belongs to another customer');
  configPath = demoConfigFile((raw) => {
    raw.source.slot = slotFor(url);
    raw.carecycle.requestsPerMinute = 6000;
  });
  const daemonEnv = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY, CARECYCLE_SYNC_ADMIN_TOKEN: TOKEN };
  env = daemonEnv;
  daemon = startDaemonChild(configPath, daemonEnv);
  base = `http://127.0.0.1:${await daemon.port()}`;
  // The backfill delivered, the two refused customers dead-lettered, nothing left to send.
  await waitFor(
    'the backfill delivered with two dead letters',
    async () => {
      const pending = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM carecycle_sync.pending').catch(() => [{ n: '1' }]);
      return pending[0]!.n === '0' && (await deadKeys().catch(() => [])).length === 2;
    },
    60_000,
    200,
  );
}, 90_000);

afterAll(async () => {
  await browser?.close();
  daemon?.kill('SIGTERM');
  await daemon?.exited();
  await standIn?.close();
});

const text = async (page: Page, name: string) => (await page.textContent(`[data-m="${name}"]`))?.trim();

describe.skipIf(!browser)('the status page in headless Chromium', () => {
  it('shows what status --json says, and a dead letter retried with the token leaves the list', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    // The script's own render from /status.json, not only the server's HTML.
    await page.waitForSelector('body[data-refreshed]', { timeout: 20_000 });
    const json = await statusJson();
    expect(await text(page, 'state')).toBe('running');
    expect(await text(page, 'dead-letters')).toBe(formatCount(json.deadLetters!.count));
    expect(await text(page, 'queue-live')).toBe(formatCount(json.queue!.live.keys));
    expect(await text(page, 'queue-backfill')).toBe(formatCount(json.queue!.backfill.keys));
    expect(await text(page, 'requests-limit')).toBe(formatCount(json.requests!.limit));
    expect(await text(page, 'backfill-enqueued')).toBe(formatCount(json.backfill!.enqueued));
    expect(await text(page, 'wal-status')).toBe(json.slot!.walStatus);
    const rows = await page.$$eval('#dead-letters tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(rows.map((r) => r[1])).toEqual(json.deadLetters!.newest.map((d) => d.key));
    expect(rows.map((r) => r[3])).toEqual(json.deadLetters!.newest.map((d) => d.reason));
    // The reason's HTML is text on screen, never markup.
    expect(rows.find((r) => r[1] === '5')![3]).toBe(HOSTILE);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.$('#dead-letters b')).toBeNull();

    mkdirSync(join(packageRoot(), 'reports'), { recursive: true });
    await page.screenshot({ path: join(packageRoot(), 'reports', `console-${slotFor(url)}.png`), fullPage: true });

    // The CRM side is fixed (CareCycle accepts customer 5 now); retry it from the page.
    standIn.faults.recordErrors.delete('5');
    await page.fill('#token', TOKEN);
    await page.check('input[data-key="5"]');
    await page.click('button:text("Retry selected")');
    await page.waitForSelector('tr[data-dead="5"]', { state: 'detached', timeout: 30_000 });
    await waitFor('customer 5 at the stand-in', () => standIn.store.byExternalId('5') !== undefined, 20_000);
    expect(await page.$('tr[data-dead="6"]')).not.toBeNull();
    await waitFor('the page to show one dead letter', async () => (await text(page, 'dead-letters')) === '1', 20_000, 200);
    expect((await statusJson()).deadLetters!.newest.map((d) => d.key)).toEqual(['6']);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

describe('the console over HTTP', () => {
  it('serves /status.json as the document status --json prints', async () => {
    const served = (await (await fetch(`${base}/status.json`)).json()) as StatusReport;
    const printed = await statusJson();
    expect(Object.keys(served).sort()).toEqual(Object.keys(printed).sort());
    expect(served.deadLetters).toEqual(printed.deadLetters);
    expect(served.queue).toEqual(printed.queue);
    expect(served.source).toEqual(printed.source);
    expect(served.deliveredPerMinute).toHaveLength(60);
  });

  it('refuses actions without the right token (401) and says there is nothing to approve', async () => {
    const missing = await post('/dead-letters/discard', { all: true });
    expect(missing.status).toBe(401);
    expect(missing.auth).toMatch(/^Bearer/);
    expect((await post('/dead-letters/discard', { all: true }, 'Bearer not-the-token')).status).toBe(401);
    expect(await deadKeys()).not.toEqual([]);
    const approve = await post('/approve', {}, `Bearer ${TOKEN}`);
    expect(approve).toMatchObject({ status: 409, body: { error: 'nothing to approve: no records are held' } });
    expect((await post('/approve', {})).status).toBe(401);
    const bad = await post('/dead-letters/retry', { key: ['6'] }, `Bearer ${TOKEN}`);
    expect(bad).toMatchObject({ status: 400, body: { error: 'body: unknown field "key"; expected "keys" or "all"' } });
    const unknown = await post('/dead-letters/discard', { keys: ['6', 'nope'] }, `Bearer ${TOKEN}`);
    expect(unknown).toMatchObject({ status: 200, body: { discarded: ['6'], unknown: ['nope'] } });
    expect(await deadKeys()).toEqual([]);
    expect((await fetch(`${base}/dead-letters/retry`)).status).toBe(405);
    // The token is never logged, nor the API key.
    expect(JSON.stringify(daemon.logs)).not.toContain(TOKEN);
    expect(JSON.stringify(daemon.logs)).not.toContain(KEY);
  });
});

describe('a console without an admin token, and one whose state database is down', () => {
  let state: StateDb;
  let deadState: StateDb;
  let crm: pg.Pool;
  let server: HealthServer;
  let down: HealthServer;
  beforeAll(async () => {
    const config = demoConfig(url, undefined, (raw) => (raw.source.slot = slotFor(url)));
    state = openStateDb(config, { max: 2, applicationName: 'console test' });
    crm = new pg.Pool({ connectionString: url, max: 1 });
    await state.pool.query(
      `INSERT INTO dead_letters (customer_key, payload, reason, field_path, http_status) VALUES ('7', '{}', 'required', 'phoneNumber', NULL)`,
    );
    const metrics = createMetrics({ defaultMetrics: false });
    const readiness = async () => ({ ready: true, checks: {} });
    const routes = daemonConsole({ config, state, crm, readiness, log: silentLogger() });
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, readiness, log: silentLogger(), routes });
    // Nothing listens on port 1: every status query fails at once.
    const deadConfig = demoConfig(url, 'postgres://postgres@127.0.0.1:1/none', (raw) => (raw.source.slot = slotFor(url)));
    deadState = openStateDb(deadConfig, { max: 1, applicationName: 'console test' });
    const notReady = async () => ({ ready: false, checks: { state: { ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:1' } } });
    const deadRoutes = daemonConsole({ config: deadConfig, state: deadState, crm, readiness: notReady, log: silentLogger() });
    down = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, readiness: notReady, log: silentLogger(), routes: deadRoutes });
  });
  afterAll(async () => {
    await server?.close();
    await down?.close();
    await state?.close();
    await deadState?.close();
    await crm?.end();
  });

  it('is read-only: no buttons on the page, and every action answers 403', async () => {
    const base0 = `http://127.0.0.1:${server.port}`;
    const html = (await (await fetch(`${base0}/`)).text()).replace(/<script>[\s\S]*<\/script>/, '');
    expect(html).toContain('read-only');
    expect(html).toContain('data-m="dead-letters">1<');
    expect(html).not.toMatch(/<button|type="checkbox"/);
    for (const path of ['/dead-letters/retry', '/dead-letters/discard', '/approve']) {
      const res = await fetch(`${base0}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
        body: '{"all":true}',
      });
      expect(res.status, path).toBe(403);
    }
    expect(await deadKeys()).toEqual(['7']);
  });

  it('still answers when the state database does not: the page says not ready and why, /status.json 503', async () => {
    const base1 = `http://127.0.0.1:${down.port}`;
    const page = await fetch(`${base1}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-m="state">not ready<');
    expect(html).toContain('state: connect ECONNREFUSED 127.0.0.1:1');
    expect(html).toMatch(/status unavailable: [^<]*ECONNREFUSED/);
    const json = await fetch(`${base1}/status.json`);
    expect(json.status).toBe(503);
    expect(((await json.json()) as { error: string }).error).toMatch(/ECONNREFUSED/);
  });
});

describe('approve from the console', () => {
  let state: StateDb;
  let crm: pg.Pool;
  let server: HealthServer;
  afterAll(async () => {
    await server?.close();
    await state?.close();
    await crm?.end();
  });

  it('releases what the mass-cancellation rail holds (shown on the page), and says when nothing is', async () => {
    const url2 = await crmWithState('console-approve', 5);
    const config = demoConfig(url2, undefined, (raw) => {
      raw.source.slot = slotFor(url2);
      raw.server = { ...raw.server, adminToken: TOKEN };
    });
    state = openStateDb(config, { max: 2, applicationName: 'console test' });
    crm = new pg.Pool({ connectionString: url2, max: 1 });
    await state.pool.query(
      `INSERT INTO pending (customer_key, priority, held_at, held_policies) VALUES ('3', 0, now(), 4), ('4', 0, now(), 2)`,
    );
    const readiness = async () => ({ ready: true, checks: {} });
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      readiness,
      log: silentLogger(),
      routes: daemonConsole({ config, state, crm, readiness, log: silentLogger() }),
    });
    const base2 = `http://127.0.0.1:${server.port}`;
    const html = await (await fetch(`${base2}/`)).text();
    expect(html).toContain('data-m="held-customers">2<');
    expect(html).toContain('<button data-action="approve" data-all>');
    const approve = (auth?: string) =>
      fetch(`${base2}/approve`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
        body: '{}',
      });
    expect((await approve()).status).toBe(401);
    expect(await sql(url2, 'SELECT count(*)::int AS n FROM carecycle_sync.pending WHERE held_at IS NOT NULL')).toEqual([{ n: 2 }]);
    const ok = await approve(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ approved: { customers: 2, policies: 6 } });
    expect(await sql(url2, 'SELECT customer_key AS k, approved FROM carecycle_sync.pending WHERE held_at IS NULL ORDER BY 1')).toEqual([
      { k: '3', approved: true },
      { k: '4', approved: true },
    ]);
    expect((await approve(`Bearer ${TOKEN}`)).status).toBe(409);
    expect(await (await fetch(`${base2}/`)).text()).not.toContain('data-m="held-customers"');
  });
});
