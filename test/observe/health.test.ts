import { describe, it, expect, afterEach } from 'vitest';
import { request } from 'undici';
import { createMetrics } from '../../src/observe/metrics.js';
import { startHealthServer, type HealthServer, type Readiness } from '../../src/observe/health.js';
import { silentLogger } from '../../src/log/logger.js';
import { parsePromText, sampleValue } from './prom-text.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(path: string, method: 'GET' | 'POST' = 'GET') {
  const res = await request(`http://127.0.0.1:${server!.port}${path}`, { method });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: await res.body.text() };
}

describe('health server (real HTTP)', () => {
  it('serves /healthz, flips /readyz with the checks, and serves parseable /metrics', async () => {
    const metrics = createMetrics();
    metrics.recordsDelivered.inc(42);
    let state: Readiness = {
      ready: false,
      checks: {
        replication: { ok: false, detail: 'connecting' },
        stateDb: { ok: true },
        heartbeat: { ok: false, detail: 'none seen yet' },
        apiKey: { ok: true },
      },
    };
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics, readiness: async () => state, log: silentLogger() });

    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });

    let r = await get('/readyz');
    expect(r.status).toBe(503);
    expect(r.type).toMatch(/application\/json/);
    expect(JSON.parse(r.body)).toEqual(state);

    state = {
      ready: true,
      checks: { replication: { ok: true }, stateDb: { ok: true }, heartbeat: { ok: true, detail: 'seen 2s ago' }, apiKey: { ok: true } },
    };
    r = await get('/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).checks.heartbeat.detail).toBe('seen 2s ago');

    const m = await get('/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const fams = parsePromText(m.body);
    expect(sampleValue(fams, 'carecycle_sync_records_delivered_total')).toBe(42);
    expect(fams.has('carecycle_sync_process_cpu_seconds_total') || fams.has('carecycle_sync_process_cpu_seconds')).toBe(true);

    expect((await get('/nope')).status).toBe(404);
    expect((await get('/healthz', 'POST')).status).toBe(405);
  });

  it('is not ready when a check fails, even if the caller says ready, and when readiness throws or hangs', async () => {
    let mode: 'contradict' | 'throw' | 'hang' = 'contradict';
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      readinessTimeoutMs: 100,
      log: silentLogger(),
      readiness: async () => {
        if (mode === 'throw') throw new Error('state DB: connection refused (key cc_secretsecret)');
        if (mode === 'hang') return new Promise<Readiness>(() => undefined);
        return { ready: true, checks: { apiKey: { ok: false, detail: 'CareCycle answered 401' } } };
      },
    });
    expect((await get('/readyz')).status).toBe(503);
    mode = 'throw';
    const thrown = await get('/readyz');
    expect(thrown.status).toBe(503);
    expect(thrown.body).toContain('connection refused');
    expect(thrown.body).not.toContain('cc_secretsecret');
    mode = 'hang';
    const hung = await get('/readyz');
    expect(hung.status).toBe(503);
    expect(hung.body).toContain('longer than 100 ms');
    // liveness is independent of readiness
    expect((await get('/healthz')).status).toBe(200);
  });

  it('close() frees the port and is safe to call twice', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      readiness: async () => ({ ready: true, checks: {} }),
      log: silentLogger(),
    });
    const port = server.port;
    await server.close();
    await server.close();
    await expect(request(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    server = await startHealthServer({
      port,
      host: '127.0.0.1',
      metrics: createMetrics({ defaultMetrics: false }),
      readiness: async () => ({ ready: true, checks: {} }),
      log: silentLogger(),
    });
    expect(server.port).toBe(port);
  });
});
