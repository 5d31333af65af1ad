/**
 * Alerts through the real daemon (`carecycle-sync run` as a child process) to local webhook
 * receivers: retained WAL over the limit, dead letters growing and resolved by a discard, a
 * rejected API key at once and "not ready" after alerts.notReadyMinutes, both resolved when
 * the key works again; a receiver that fails twice still gets every message (retries), a dead
 * one is logged without its URL and counted in /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { freshDatabase, sql } from '../harness/db.js';
import { cli, seedCrm } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';
import { freePort } from '../harness/pg-cluster.js';
import { demoConfigFile, startDaemonChild, type DaemonChild } from '../daemon/daemon-child.js';

const KEY = 'cc_alerts_test_0123456789abcdef';
const SECRET_PATH = 'T0001/B0001/s3cretWebhookPart';

interface Received {
  path: string;
  body: Record<string, any>;
}

let url: string;
let standIn: StandIn;
let daemon: DaemonChild;
let receiver: Server;
let configPath: string;
let env: Record<string, string>;
const received: Received[] = [];
let flakyFailures = 0;

const at = (path: string, event: string, status: string) =>
  received.filter(
    (r) =>
      r.path === path &&
      (path === '/slack'
        ? String(r.body.text).includes(event) && String(r.body.text).includes(status.toUpperCase())
        : r.body.event === event && r.body.status === status),
  );
const arrives = (path: string, event: string, status: string, ms = 30_000) =>
  waitFor(
    `${path} to receive ${event} ${status}; got ${JSON.stringify(received.map((r) => [r.path, r.body.event ?? r.body.text, r.body.status]))}`,
    () => at(path, event, status).length > 0,
    ms,
    100,
  );
const q = (text: string) => sql(url, text);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url === '/flaky' && flakyFailures < 2) {
        flakyFailures++;
        res.writeHead(500).end('try again');
        return;
      }
      received.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const dead = `http://127.0.0.1:${await freePort()}/${SECRET_PATH}`;

  url = await freshDatabase('alerts');
  await seedCrm(url, 10);
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  configPath = demoConfigFile((raw) => {
    raw.source.slot = slotFor(url);
    raw.carecycle.requestsPerMinute = 6000;
    raw.carecycle.authRetrySeconds = 0.5;
    raw.alerts = {
      notReadyMinutes: 0.05,
      repeatMinutes: 10,
      walRetainedBytes: 1,
      webhooks: [
        { url: `${base}/json` },
        { url: `${base}/slack`, format: 'slack', events: ['api_key_rejected'] },
        { url: `${base}/flaky`, format: 'json', events: ['wal_retained'] },
        { url: dead, events: ['api_key_rejected'] },
      ],
    };
  });
  const daemonEnv = { DATABASE_URL: url, CARECYCLE_BASE_URL: standIn.url, CARECYCLE_API_KEY: KEY };
  env = daemonEnv;
  daemon = startDaemonChild(configPath, daemonEnv);
  await daemon.port();
  await waitFor('the backfill delivered', async () => standIn.store.all().length === 10, 60_000, 200);
}, 90_000);

afterAll(async () => {
  daemon?.kill('SIGTERM');
  await daemon?.exited();
  await standIn?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('alerts from a running daemon', () => {
  it('retained WAL over alerts.walRetainedBytes: one firing message in the documented JSON shape, retried to a receiver that failed twice', async () => {
    await arrives('/json', 'wal_retained', 'firing');
    const [m] = at('/json', 'wal_retained', 'firing');
    expect(Object.keys(m!.body).sort()).toEqual(['at', 'details', 'event', 'instance', 'status', 'summary']);
    expect(m!.body).toMatchObject({ instance: slotFor(url), details: { limitBytes: 1, slot: slotFor(url) } });
    expect(m!.body.details.retainedBytes).toBeGreaterThan(1);
    expect(Date.parse(m!.body.at)).toBeGreaterThan(Date.now() - 120_000);
    await arrives('/flaky', 'wal_retained', 'firing', 20_000);
    expect(flakyFailures).toBe(2);
  });

  it('dead letters growing fires with the keys, and resolves once they are discarded', async () => {
    standIn.faults.rejectRecord('3', 'refused by the test');
    await q(`UPDATE customers SET first_name = 'Zebedee' WHERE id = 3`);
    await arrives('/json', 'dead_letters_growing', 'firing');
    expect(at('/json', 'dead_letters_growing', 'firing')[0]!.body.details).toMatchObject({ count: 1, previous: 0, newestKeys: ['3'] });
    const r = await cli(['dead-letters', 'discard', '3', '-c', configPath], { env });
    expect(r.code, r.stderr).toBe(0);
    await arrives('/json', 'dead_letters_growing', 'resolved');
  });

  it('a rejected API key alerts at once (json and slack), not ready after notReadyMinutes, both resolved when the key works again', async () => {
    standIn.setApiKey('cc_some_other_key_0123456789');
    await q(`UPDATE customers SET email = 'new@example.com' WHERE id = 4`);
    await arrives('/json', 'api_key_rejected', 'firing');
    await arrives('/slack', 'api_key_rejected', 'firing');
    expect(String(at('/slack', 'api_key_rejected', 'firing')[0]!.body.text)).toMatch(
      /^:rotating_light: FIRING \[carecycle-sync [a-z0-9_]+\] api_key_rejected: CareCycle rejects the API key/,
    );
    await arrives('/json', 'not_ready', 'firing');
    const notReady = at('/json', 'not_ready', 'firing')[0]!.body;
    expect(notReady.details.failing).toHaveProperty('apiKey');
    standIn.setApiKey(KEY);
    await arrives('/json', 'api_key_rejected', 'resolved');
    await arrives('/json', 'not_ready', 'resolved');
    await arrives('/slack', 'api_key_rejected', 'resolved');
    // Once per condition: the repeat period (10 min) is not over.
    expect(at('/json', 'api_key_rejected', 'firing')).toHaveLength(1);
    expect(at('/json', 'wal_retained', 'firing')).toHaveLength(1);
  }, 60_000);

  it('a webhook that never answers is logged without its URL and counted, and nothing secret or personal is in any message', async () => {
    const logged = await daemon.sawLog('the dead webhook given up', (l) => /alert not delivered/.test(String(l.msg)), 40_000);
    expect(logged.webhook).toMatch(/^alerts\.webhooks\[3\] \(127\.0\.0\.1:\d+\)$/);
    const metrics = await (await fetch(`http://127.0.0.1:${await daemon.port()}/metrics`)).text();
    expect(metrics).toMatch(/carecycle_sync_alert_delivery_failures_total\{event="api_key_rejected"\} [1-9]/);
    expect(metrics).toMatch(/carecycle_sync_alerts_sent_total\{event="wal_retained",status="firing"\} 2/);
    expect(metrics).toMatch(/^carecycle_sync_ready 1$/m);
    const everything = JSON.stringify(received) + JSON.stringify(daemon.logs);
    expect(everything).not.toContain(SECRET_PATH);
    expect(everything).not.toContain(KEY);
    expect(JSON.stringify(received)).not.toContain('Zebedee');
    expect(JSON.stringify(received)).not.toContain('new@example.com');
  }, 60_000);
});
