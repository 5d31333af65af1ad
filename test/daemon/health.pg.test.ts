/**
 * The daemon's HTTP surface against real failures: /readyz turns 503 when Postgres
 * stops and 200 again by itself when it is back; a key CareCycle rejects turns it 503 until the
 * key works again; /healthz answers throughout; /metrics is Prometheus text whose counters
 * agree with what the stand-in actually received.
 *
 * The daemon runs in this process (startDaemon, as `run` composes it) on a private cluster,
 * because the test stops and starts the server under it.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { parse } from 'yaml';
import { packageRoot } from '../../src/paths.js';
import { validateConfig } from '../../src/config/load.js';
import { silentLogger, createLogger } from '../../src/log/logger.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { openStateDb } from '../../src/state/db.js';
import type { Config } from '../../src/config/schema.js';
import { startCluster, type PgCluster } from '../harness/pg-cluster.js';
import { sql } from '../harness/db.js';
import { seedCrm } from '../backfill/fixture.js';
import { waitFor } from '../source/helpers.js';
import { parsePromText, sampleValue, type Family } from '../observe/prom-text.js';

const binDir = inject('pgBinDir');
const KEY = 'cc_health_test_0123456789abcdef';
const CUSTOMERS = 50;
/** Customer whose records the stand-in refuses with a per-record error (a 200 with errors[]). */
const REFUSED = '3';

type ReadyBody = { ready: boolean; checks: Record<string, { ok: boolean; detail?: string }> };

describe.skipIf(!binDir)('daemon health, readiness and metrics over HTTP', { timeout: 60_000 }, () => {
  let cluster: PgCluster;
  let url: string;
  let standIn: StandIn;
  let daemon: Daemon;
  let config: Config;
  let running: Promise<void>;
  const stop = new AbortController();
  const hard = new AbortController();

  const http = async (path: string) => {
    const res = await request(`http://127.0.0.1:${daemon.health!.port}${path}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    return { status: res.statusCode, type: String(res.headers['content-type']), text: await res.body.text() };
  };
  const readyz = async () => {
    const r = await http('/readyz');
    return { status: r.status, body: JSON.parse(r.text) as ReadyBody };
  };
  const storedFirstName = (key: string) => standIn.store.byExternalId(key)?.fields.firstName;
  const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  beforeAll(async () => {
    cluster = await startCluster({ binDir: binDir! });
    await sql(cluster.url, 'CREATE DATABASE crm');
    url = cluster.url.replace(/\/postgres$/, '/crm');
    await seedCrm(url, CUSTOMERS);
    standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
    standIn.faults.rejectRecord(REFUSED, 'phone number belongs to another customer');

    const raw = parse(readFileSync(join(packageRoot(), 'config', 'demo.yaml'), 'utf8'));
    raw.source.url = url;
    raw.source.heartbeatSeconds = 1;
    raw.carecycle = { baseUrl: standIn.url, apiKey: KEY, requestsPerMinute: 6000, authRetrySeconds: 0.5 };
    raw.sync.flushIntervalMs = 50;
    config = validateConfig(raw);
    const log = process.env.HEALTH_TEST_LOG ? createLogger({ level: process.env.HEALTH_TEST_LOG, pretty: false }) : silentLogger();
    daemon = await startDaemon({ config, configPath: 'health.pg.test config', log, port: 0, host: '127.0.0.1', idlePollMs: 50 });
    running = daemon.run(stop.signal, hard.signal);
    running.catch(() => undefined);
  }, 60_000);

  afterAll(async () => {
    stop.abort();
    setTimeout(() => hard.abort(), 3000).unref();
    await running?.catch(() => undefined);
    await standIn?.close();
    await cluster?.destroy();
  });

  it('turns ready once streaming; the backfill arrives', async () => {
    const t0 = Date.now();
    await waitFor('/readyz 200', async () => (await readyz()).status === 200, 20_000, 100);
    const r = await readyz();
    expect(r.body.ready).toBe(true);
    expect(Object.entries(r.body.checks).filter(([, c]) => !c.ok)).toEqual([]);
    expect(Object.keys(r.body.checks).sort()).toEqual([
      'apiKey',
      'endpoint',
      'heartbeat',
      'postgres',
      'progress',
      'replication',
      'safety',
      'state',
    ]);
    await waitFor('the backfill at the stand-in', () => standIn.store.all().length === CUSTOMERS - 1, 20_000, 100);
    await waitFor(
      'the queue to drain',
      async () => (await sql(url, 'SELECT 1 FROM carecycle_sync.pending LIMIT 1')).length === 0,
      10_000,
      100,
    );
    expect(standIn.store.byExternalId(REFUSED)).toBeUndefined();
    console.log(`[health] ready and backfilled ${CUSTOMERS - 1} customers in ${since(t0)}`);
  });

  it('/readyz turns 503 while Postgres is down and 200 again by itself when it is back', async () => {
    const t0 = Date.now();
    // A state connection busy in a query when the server goes: the query must fail, and nothing
    // else (an uncaught 'error' of a checked-out pg client crashed the daemon; vitest fails the
    // run on uncaught errors). The daemon's own checked-out clients are only sometimes caught here.
    const other = openStateDb(config, { max: 1 });
    const busy = await other.pool.connect();
    const sleeping = busy.query('SELECT pg_sleep(60)').then(
      () => 'finished',
      (e: Error) => e.message,
    );
    await cluster.stopServer();
    expect(await sleeping).toMatch(/terminat/i);
    busy.release(true);
    await other.close();
    const stopped = Date.now();
    let down: ReadyBody | undefined;
    await waitFor(
      '/readyz 503 with replication and state failing',
      async () => {
        const r = await readyz();
        if (r.status === 503 && !r.body.checks.replication!.ok && !r.body.checks.state!.ok) down = r.body;
        return down !== undefined;
      },
      10_000,
      100,
    );
    const notReadyAfter = since(stopped);
    expect(down!.ready).toBe(false);
    expect(down!.checks.heartbeat!.ok).toBe(false);
    expect(down!.checks.apiKey!.ok, 'a database outage is not a key problem').toBe(true);
    // Liveness stays green: a restart would not help, Postgres being down is not our fault.
    expect(await http('/healthz')).toMatchObject({ status: 200, text: 'ok\n' });
    // /metrics still answers (stale gauges, the failed refresh counted) and says disconnected.
    const m = parsePromText((await http('/metrics')).text);
    expect(sampleValue(m, 'carecycle_sync_replication_connected')).toBe(0);
    expect(sampleValue(m, 'carecycle_sync_collect_errors_total')).toBeGreaterThanOrEqual(1);

    await cluster.startServer();
    const started = Date.now();
    await waitFor('/readyz 200 again', async () => (await readyz()).status === 200, 30_000, 100);
    const readyAfter = since(started);
    expect(daemon.capture.status().reconnects).toBeGreaterThanOrEqual(1);

    // Data flows again: a change made after the restart reaches CareCycle.
    await sql(url, `UPDATE customers SET first_name = 'Restarted' WHERE id = 1`);
    await waitFor('the change after the restart at the stand-in', () => storedFirstName('1') === 'Restarted', 15_000, 50);
    console.log(`[health] Postgres down: 503 after ${notReadyAfter}; back: 200 after ${readyAfter}; change delivered, ${since(t0)} in all`);
  });

  it('/readyz turns 503 with apiKey failing while CareCycle rejects the key, and 200 once it is restored', async () => {
    const t0 = Date.now();
    standIn.setApiKey('cc_other');
    await sql(url, `UPDATE customers SET first_name = 'Rotated' WHERE id = 2`);
    let down: ReadyBody | undefined;
    await waitFor(
      '/readyz 503 with apiKey failing',
      async () => {
        const r = await readyz();
        if (r.status === 503 && !r.body.checks.apiKey!.ok) down = r.body;
        return down !== undefined;
      },
      10_000,
      100,
    );
    // Only the key: the stream and the state database are fine.
    expect(
      Object.entries(down!.checks)
        .filter(([, c]) => !c.ok)
        .map(([k]) => k),
    ).toEqual(['apiKey']);
    expect(JSON.stringify(down)).not.toContain(KEY);
    expect((await http('/healthz')).status).toBe(200);
    expect(storedFirstName('2')).not.toBe('Rotated');

    standIn.setApiKey(KEY);
    await waitFor('the held-back change at the stand-in', () => storedFirstName('2') === 'Rotated', 15_000, 50);
    await waitFor('/readyz 200 again', async () => (await readyz()).status === 200, 10_000, 100);
    console.log(`[health] rejected key: 503 then 200 and delivered in ${since(t0)}`);
  });

  it('/metrics is strict Prometheus text whose counters match what the stand-in received', async () => {
    await waitFor(
      'the queue to drain',
      async () => (await sql(url, 'SELECT 1 FROM carecycle_sync.pending LIMIT 1')).length === 0,
      10_000,
      100,
    );
    const res = await http('/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePromText(res.text);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(m, name, labels);

    // What the stand-in saw: records in 200 answers, less the per-record errors among them.
    const ok = standIn.requests.filter((r) => r.status === 200);
    const refused = ok.flatMap((r) => r.externalIds).filter((id) => id === REFUSED).length;
    const accepted = ok.reduce((n, r) => n + r.records, 0) - refused;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeGreaterThanOrEqual(CUSTOMERS - 1 + 2);
    expect(value('carecycle_sync_records_delivered_total')).toBe(accepted);
    expect(value('carecycle_sync_records_failed_total', { stage: 'api' })).toBe(refused);
    expect(value('carecycle_sync_requests_total', { status: '200' })).toBe(ok.length);
    const unauthorized = standIn.requests.filter((r) => r.status === 401).length;
    expect(unauthorized).toBeGreaterThanOrEqual(1);
    expect(value('carecycle_sync_requests_total', { status: '401' })).toBe(unauthorized);
    // Every request has a latency observation under its status.
    expect(value('carecycle_sync_request_duration_seconds_count', { status: '200' })).toBe(ok.length);

    // Gauges read from the state database and the slot at scrape time.
    expect(family(m, 'carecycle_sync_queue_depth').type).toBe('gauge');
    expect(value('carecycle_sync_queue_depth', { priority: 'live' })).toBe(0);
    expect(value('carecycle_sync_queue_depth', { priority: 'backfill' })).toBe(0);
    expect(value('carecycle_sync_oldest_pending_age_seconds')).toBe(0);
    expect(value('carecycle_sync_dead_letters')).toBe(1);
    const lag = value('carecycle_sync_slot_lag_bytes');
    expect(Number.isFinite(lag)).toBe(true);
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(value('carecycle_sync_replication_connected')).toBe(1);
    expect(value('carecycle_sync_backfill_enqueued')).toBe(CUSTOMERS);
    expect(value('carecycle_sync_changes_received_total', { table: 'all' })).toBeGreaterThanOrEqual(2);
  });
});

function family(m: Map<string, Family>, name: string): Family {
  const f = m.get(name);
  if (!f) throw new Error(`/metrics has no family ${name}; it has ${[...m.keys()].join(', ')}`);
  return f;
}
