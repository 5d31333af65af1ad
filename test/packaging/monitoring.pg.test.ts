/**
 * deploy/grafana/carecycle-sync.json and deploy/prometheus/alerts.yaml: promtool accepts the
 * rules (and, as recording rules, every dashboard query), every metric name either file uses
 * is one a running daemon's /metrics exports, and the dashboard has the fields Grafana needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../../src/paths.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/log/logger.js';
import { freshDatabase } from '../harness/db.js';
import { testTempDir } from '../harness/tmp.js';
import { demoConfig, seedCrm } from '../backfill/fixture.js';
import { slotFor } from '../source/fixtures.js';
import { waitFor } from '../source/helpers.js';

const KEY = 'cc_monitoring_test_0123456789abcdef';
const DASHBOARD = join(packageRoot(), 'deploy', 'grafana', 'carecycle-sync.json');
const RULES = join(packageRoot(), 'deploy', 'prometheus', 'alerts.yaml');

const promtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return 'promtool';
  } catch {
    console.warn('monitoring.pg.test: SKIPPED the promtool checks: promtool not found (apt-get install -y prometheus)');
    return undefined;
  }
})();

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource: { type: string; uid: string };
  targets: { refId: string; expr: string; datasource: { type: string; uid: string } }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
};
const rules = parse(readFileSync(RULES, 'utf8')) as {
  groups: { name: string; rules: { alert: string; expr: string; annotations: Record<string, string> }[] }[];
};
const exprs = [
  ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
  ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
];

let standIn: StandIn;
let daemon: Daemon;
let running: Promise<void>;
const stop = new AbortController();

beforeAll(async () => {
  const url = await freshDatabase('monitoring');
  await seedCrm(url, 5);
  standIn = await startStandIn({ apiKey: KEY, rpm: 6000 });
  const config = demoConfig(url, undefined, (raw) => {
    raw.source.slot = slotFor(url);
    raw.carecycle = { baseUrl: standIn.url, apiKey: KEY, requestsPerMinute: 6000 };
    // A webhook, so the alert delivery metrics exist too (nothing answers there: no matter).
    raw.alerts = { webhooks: [{ url: 'http://127.0.0.1:9/hook', events: ['wal_retained'] }] };
  });
  daemon = await startDaemon({ config, configPath: 'monitoring test', log: silentLogger(), port: 0, host: '127.0.0.1', idlePollMs: 50 });
  running = daemon.run(stop.signal, AbortSignal.timeout(60_000));
  running.catch(() => undefined);
  await waitFor('the backfill delivered', () => standIn.store.all().length === 5, 30_000, 100);
}, 60_000);

afterAll(async () => {
  stop.abort();
  await running?.catch(() => undefined);
  await standIn?.close();
});

describe('monitoring files in deploy/', () => {
  it('use only metric names that a running daemon exports on /metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${daemon.health!.port}/metrics`)).text();
    const exported = new Set<string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m[1]! + s);
    }
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\bcarecycle_sync_[a-z0-9_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(15);
    expect(
      [...used].filter((n) => !exported.has(n)),
      'metric names the daemon does not export',
    ).toEqual([]);
    // The dashboard covers what the README promises.
    for (const name of [
      'slot_lag_bytes',
      'slot_retained_wal_bytes',
      'queue_depth',
      'oldest_pending_age_seconds',
      'records_delivered_total',
      'records_failed_total',
      'records_skipped_total',
      'requests_total',
      'request_duration_seconds_bucket',
      'rate_limit_waits_total',
      'dead_letters',
      'backfill_enqueued',
    ]) {
      expect(
        dashboard.panels.some((p) => p.targets.some((t) => t.expr.includes(`carecycle_sync_${name}`))),
        name,
      ).toBe(true);
    }
  });

  it('the dashboard has a uid, a title and panels with a datasource, a position and targets', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(typeof dashboard.schemaVersion).toBe('number');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect(['timeseries', 'stat'], p.title).toContain(p.type);
      expect(p.title).toBeTruthy();
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.gridPos.w, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t) => t.refId)).size, p.title).toBe(p.targets.length);
      for (const t of p.targets) expect(t.expr, p.title).toBeTruthy();
    }
  });

  it.skipIf(!promtool)('promtool check rules accepts the alert rules, and every dashboard query as PromQL', () => {
    const out = execFileSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/SUCCESS: 11 rules found/);
    for (const r of rules.groups.flatMap((g) => g.rules)) expect(r.annotations.summary, r.alert).toBeTruthy();
    // The dashboard's queries as recording rules ($instance as any instance): promtool parses them.
    const recording = {
      groups: [
        {
          name: 'dashboard',
          rules: dashboard.panels.flatMap((p) =>
            p.targets.map((t, i) => ({ record: `dashboard:panel${p.id}:${i}`, expr: t.expr.replaceAll('$instance', '.*') })),
          ),
        },
      ],
    };
    const file = join(testTempDir('ccs-mon-'), 'dashboard-rules.yaml');
    writeFileSync(file, stringify(recording));
    expect(execFileSync(promtool!, ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).toMatch(/SUCCESS/);
  });
});
