import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSender } from '../../src/observe/alerts/sender.js';
import type { AlertMessage } from '../../src/observe/alerts/engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { startConnectProxy, type TestProxy } from '../harness/connect-proxy.js';

const MESSAGE: AlertMessage = {
  event: 'not_ready',
  status: 'firing',
  summary: 'not ready: state (down)',
  instance: 'carecycle_sync',
  at: '2026-01-01T12:00:00.000Z',
  details: { failing: { state: 'down' } },
};

let receiver: Server;
let port: number;
let proxy: TestProxy;
const got: { path: string; body: unknown }[] = [];
let failFirst = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(503).end();
        return;
      }
      got.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  port = (receiver.address() as AddressInfo).port;
  proxy = await startConnectProxy({ [`hooks.example.test:${port}`]: port });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => receiver?.close(r));
});

describe('alert webhook delivery', () => {
  it('goes through the outbound proxy CareCycle requests use (the proxy resolves the host)', async () => {
    const sender = createSender({
      webhooks: [{ url: `http://hooks.example.test:${port}/T0/B0/secret`, format: 'slack' }],
      log: silentLogger(),
      registry: new Registry(),
      network: { proxy: { httpUrl: proxy.url } },
    });
    sender.send(MESSAGE);
    await sender.settled();
    sender.close();
    expect(proxy.log.map((l) => `${l.method} ${l.target}`)).toContain(`CONNECT hooks.example.test:${port}`);
    expect(got.at(-1)).toEqual({
      path: '/T0/B0/secret',
      body: {
        text: ':rotating_light: FIRING [carecycle-sync carecycle_sync] not_ready: not ready: state (down) (2026-01-01T12:00:00.000Z)',
      },
    });
  });

  it('retries with backoff, counts what it could not deliver, and only sends the events a webhook asked for', async () => {
    const registry = new Registry();
    const sender = createSender({
      webhooks: [
        { url: `http://127.0.0.1:${port}/json`, format: 'json' },
        { url: `http://127.0.0.1:${port}/only-key`, format: 'json', events: ['api_key_rejected'] },
        { url: 'http://127.0.0.1:9/nobody', format: 'json' },
      ],
      log: silentLogger(),
      registry,
      attempts: 3,
      baseDelayMs: 20,
    });
    failFirst = 2;
    const before = got.length;
    const t0 = Date.now();
    sender.send(MESSAGE);
    await sender.settled();
    sender.close();
    expect(got.slice(before)).toEqual([{ path: '/json', body: MESSAGE }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20 + 40);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/carecycle_sync_alert_delivery_failures_total\{event="not_ready"\} 1/);
    expect(metrics).toMatch(/carecycle_sync_alerts_sent_total\{event="not_ready",status="firing"\} 1/);
  });
});
