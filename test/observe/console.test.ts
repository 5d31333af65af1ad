import { createHash } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/observe/status/collect.js';
import type { Readiness } from '../../src/observe/health.js';
import { CAPTURE_DEFAULTS, DELIVERY_DEFAULTS } from '../../src/state/runtime.js';
import { contentSecurityPolicy, renderPage, SERVER_FORMAT } from '../../src/observe/console/page.js';
import { esc, renderMain, sparkline, stateOf } from '../../src/observe/console/view.js';
import { authorize, parseSelection, refusal } from '../../src/observe/console/actions.js';
import { perMinute } from '../../src/observe/status/throughput.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const HOSTILE = `<script>alert("x")</script> & 'quoted' <img src=x onerror=alert(1)>`;

function report(patch: Partial<StatusReport> = {}): StatusReport {
  return {
    setUp: true,
    problems: [],
    source: { url: 'postgres://app:[REDACTED]@db/crm', slot: 'carecycle_sync', publication: 'carecycle_sync' },
    stateSchema: 'carecycle_sync',
    slot: {
      name: 'carecycle_sync',
      active: true,
      activePid: 4242,
      walStatus: 'reserved',
      confirmedFlushLsn: '0/16B3748',
      restartLsn: '0/16B0000',
      lagBytes: 12_288,
      retainedBytes: 3 * 1024 * 1024,
      safeWalSizeBytes: null,
    },
    checkpoint: { lsn: '0/16B3748', updatedAt: ago(3), ageMs: 3000 },
    queue: {
      live: { keys: 3, oldestAgeMs: 2000, retrying: 1 },
      backfill: { keys: 120_000, oldestAgeMs: 300_000, retrying: 0 },
      total: 120_003,
    },
    deadLetters: {
      count: 2,
      newest: [
        { key: '42', reason: HOSTILE, fieldPath: 'phoneNumber', lastFailedAt: ago(180) },
        { key: '<k"7>', reason: 'required', fieldPath: null, lastFailedAt: ago(600) },
      ],
      topReasons: [
        { reason: HOSTILE, fieldPath: 'phoneNumber', count: 1 },
        { reason: 'required', fieldPath: null, count: 1 },
      ],
    },
    backfill: {
      runId: '3',
      where: null,
      enqueued: 250_000,
      total: 250_000,
      finished: true,
      pending: 120_000,
      remaining: 120_000,
      etaMs: 20 * 60_000,
      startedAt: ago(3600),
    },
    initialBackfillRequested: false,
    initialBackfillRetry: null,
    requests: { requests: 58, records: 5800, byStatus: { '200': 58 }, limit: 60 },
    capture: { ...CAPTURE_DEFAULTS, connected: true, lastHeartbeatAt: ago(12), updatedAt: ago(1) },
    delivery: { ...DELIVERY_DEFAULTS, lastRequestAt: ago(1), updatedAt: ago(1), lastError: `HTTP 500: ${HOSTILE}`, lastErrorAt: ago(30) },
    pgProblems: [],
    apiKeyRejected: false,
    deliveredPerMinute: [...new Array(59).fill(0), 5800],
    lastError: null,
    ...patch,
  };
}
const READY: Readiness = { ready: true, checks: { replication: { ok: true, detail: 'streaming' } } };
const figure = (html: string, name: string) => new RegExp(`data-m="${name}">([^<]*)<`).exec(html)?.[1];

describe('status page view', () => {
  it('puts the numbers in the HTML the server sends', () => {
    const html = renderPage(report(), READY, { actions: false, now: NOW });
    expect(figure(html, 'state')).toBe('running');
    expect(figure(html, 'queue-live')).toBe('3');
    expect(figure(html, 'queue-backfill')).toBe('120,000');
    expect(figure(html, 'queue-oldest')).toBe('5m');
    expect(figure(html, 'slot-lag')).toBe('12 KB');
    expect(figure(html, 'retained-wal')).toBe('3.0 MB');
    expect(figure(html, 'requests')).toBe('58');
    expect(figure(html, 'requests-limit')).toBe('60');
    expect(figure(html, 'dead-letters')).toBe('2');
    expect(figure(html, 'backfill-eta')).toBe('20m');
    expect(figure(html, 'records-hour')).toBe('5,800');
    expect(html).toContain('<svg class="spark"');
  });

  it('shows a recreated slot and a failed initial backfill', () => {
    const r = report({ initialBackfillRetry: { lastError: 'permission <denied>', attempts: 3, nextRetryAt: ago(-30) } });
    r.slot = { ...r.slot!, recreations: 2, lastRecreatedAt: ago(120), lastLostReason: 'wal_status lost' };
    const html = renderPage(r, READY, { actions: false, now: NOW });
    expect(figure(html, 'slot-recreations')).toBe('2');
    expect(html).toContain('after it was lost, last 2m ago (wal_status lost)');
    expect(html).toContain('failed 3×</strong> (permission &#60;denied&#62;); the daemon retries it by itself; next try 30s from now');
  });

  it('shows a mass-cancellation hold, with the approve button only when actions are enabled', () => {
    const r = report({
      held: { customers: 450, policies: 1350, since: ago(300), reason: 'would cancel 1,350 policies in 15 minutes, over 50' },
    });
    const rw = renderPage(r, READY, { actions: true, now: NOW });
    expect(figure(rw, 'held-customers')).toBe('450');
    expect(figure(rw, 'held-policies')).toBe('1,350');
    expect(rw).toContain('<button data-action="approve" data-all>');
    const ro = renderPage(r, READY, { actions: false, now: NOW }).replace(/<script>[\s\S]*<\/script>/, '');
    expect(figure(ro, 'held-customers')).toBe('450');
    expect(ro).not.toContain('<button');
    expect(renderPage(report(), READY, { actions: true, now: NOW })).not.toContain('data-m="held-customers"');
  });

  it('escapes everything it prints: reasons, keys and error texts from the CRM or the API', () => {
    const html = renderPage(report(), READY, { actions: true, now: NOW });
    const body = html.slice(html.indexOf('<main'), html.indexOf('</main>'));
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<k"7>');
    expect(body).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;quoted&#39;');
    expect(body).toContain('data-key="&#60;k&#34;7&#62;"');
    expect(esc(`<>&"'`)).toBe('&#60;&#62;&#38;&#34;&#39;');
  });

  it('shows no buttons and no checkboxes when no admin token is configured', () => {
    // The markup (the script holds the view functions' source, buttons included).
    const ro = renderPage(report(), READY, { actions: false, now: NOW }).replace(/<script>[\s\S]*<\/script>/, '');
    expect(ro).not.toMatch(/<button|type="checkbox"|id="token"/);
    expect(ro).toContain('read-only');
    const rw = renderPage(report(), READY, { actions: true, now: NOW });
    expect(rw).toContain('<button data-action="dead-letters/retry">Retry selected</button>');
    expect(rw).toMatch(/<input type="checkbox" data-key="42"/);
    expect(rw).toContain('id="token" type="password"');
  });

  it('says why it is not ready, and when it is a standby', () => {
    const down: Readiness = {
      ready: false,
      checks: {
        replication: { ok: false, detail: 'disconnected: ECONNREFUSED' },
        apiKey: { ok: false, detail: 'CareCycle rejects the API key' },
        state: { ok: true },
      },
    };
    expect(stateOf(report(), down)).toEqual({
      state: 'not ready',
      why: ['replication: disconnected: ECONNREFUSED', 'apiKey: CareCycle rejects the API key'],
    });
    const standby: Readiness = {
      ready: false,
      checks: { replication: { ok: false, detail: 'standby: another instance holds the slot', code: 'standby' } },
    };
    expect(stateOf(report(), standby).state).toBe('standby');
    expect(stateOf(report({ setUp: false, problems: ['replication slot "x" does not exist'] }), READY)).toEqual({
      state: 'not set up',
      why: ['replication slot "x" does not exist'],
    });
    // Not ready comes first, with the status problems after the failing checks.
    expect(stateOf(report({ setUp: false, problems: ['status unavailable: timeout'] }), down).why).toEqual([
      'replication: disconnected: ECONNREFUSED',
      'apiKey: CareCycle rejects the API key',
      'status unavailable: timeout',
    ]);
  });

  it('ships self-contained view functions: the browser script renders exactly what the server rendered', () => {
    const html = renderPage(report(), READY, { actions: true, now: NOW });
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
    // The script in a context with nothing of this module: only what it defines itself.
    const el = { textContent: '', innerHTML: '', querySelectorAll: () => [], setAttribute: () => undefined };
    const ctx: Record<string, unknown> = {
      document: { getElementById: () => el, addEventListener: () => undefined, body: el },
      setInterval: () => 0,
      fetch: () => new Promise(() => undefined),
    };
    runInNewContext(
      `${script}\nglobalThis.out = renderMain(doc, ready, { actions: true, now: ${NOW} }, F);`,
      Object.assign(ctx, { doc: report(), ready: READY }),
    );
    expect(ctx.out).toBe(renderMain(report(), READY, { actions: true, now: NOW }, SERVER_FORMAT));
    // And the Content-Security-Policy allows that script, and only it.
    expect(contentSecurityPolicy(true)).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(contentSecurityPolicy(true)).toContain("default-src 'none'");
  });

  it('draws the sparkline scaled to its maximum, oldest minute on the left', () => {
    const svg = sparkline([0, 5, 10], 100, 20, 'x');
    expect(/points="([^"]+)"/.exec(svg)![1]).toBe('0.0,19.0 50.0,10.0 100.0,1.0');
    expect(sparkline([0, 0], 10, 10, 'x')).toContain('0.0,9.0 10.0,9.0');
    expect(
      perMinute([
        { minutesAgo: 0, records: 7 },
        { minutesAgo: 59, records: 3 },
        { minutesAgo: 60, records: 99 },
      ]),
    ).toEqual([3, ...new Array(58).fill(0), 7]);
  });
});

describe('status page actions', () => {
  const TOKEN = 'a-long-admin-token-0123456789';
  it('needs the configured bearer token; without one configured everything is refused', () => {
    expect(authorize(`Bearer ${TOKEN}`, TOKEN)).toBe('ok');
    expect(authorize(`bearer ${TOKEN}`, TOKEN)).toBe('ok');
    expect(authorize(`Bearer ${TOKEN}x`, TOKEN)).toBe('wrong');
    expect(authorize('Bearer short', TOKEN)).toBe('wrong');
    expect(authorize(undefined, TOKEN)).toBe('missing');
    expect(authorize(TOKEN, TOKEN)).toBe('missing');
    expect(authorize(`Bearer ${TOKEN}`, undefined)).toBe('disabled');
    expect(refusal('disabled').status).toBe(403);
    expect(refusal('wrong')).toEqual({ status: 401, error: 'wrong admin token' });
    expect(JSON.stringify([refusal('wrong'), refusal('missing'), refusal('disabled')])).not.toContain(TOKEN);
  });

  it('takes {"keys": [...]} or {"all": true} and says what is wrong with anything else', () => {
    expect(parseSelection('{"keys":["1","2"]}')).toEqual({ keys: ['1', '2'] });
    expect(parseSelection('{"keys":[7]}')).toEqual({ keys: ['7'] });
    expect(parseSelection('{"all":true}')).toEqual({ all: true });
    expect(parseSelection('{"all":false}')).toEqual({ error: 'body.all: expected true' });
    expect(parseSelection('{"all":true,"keys":["1"]}')).toEqual({ error: 'body: give "keys" or "all", not both' });
    expect(parseSelection('{"keys":[]}')).toEqual({ error: 'body.keys: expected a non-empty array of customer keys' });
    expect(parseSelection('{"keys":["1",null]}')).toEqual({ error: 'body.keys[1]: expected a customer key (a non-empty string)' });
    expect(parseSelection('{"key":["1"]}')).toEqual({ error: 'body: unknown field "key"; expected "keys" or "all"' });
    expect(parseSelection('nope')).toMatchObject({ error: expect.stringContaining('expected JSON') });
    expect(parseSelection('[1]')).toMatchObject({ error: expect.stringContaining('expected an object') });
  });
});
