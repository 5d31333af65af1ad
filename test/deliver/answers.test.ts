/**
 * Answers that must not fool the delivery client: 2xx bodies shaped differently from ours, counts
 * that do not say which records failed, a record that always gets 500, an outage, pages from a
 * proxy, a 429 that names no wait, a key rotated in its file, a key without permission. Each runs
 * against the stand-in answering that way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import {
  ApiKeyRejectedError,
  createDeliveryClient,
  EndpointError,
  type DeliveryClient,
  type DeliveryClientOptions,
  type RecordOutcome,
} from '../../src/deliver/index.js';
import { apiKeyFileReader } from '../../src/config/load.js';
import { API_KEY, capturingLogger, record } from './helpers.js';

let s: StandIn;
let client: DeliveryClient;
let logs: ReturnType<typeof capturingLogger>;

function makeClient(over: Partial<DeliveryClientOptions> = {}): DeliveryClient {
  return createDeliveryClient({
    baseUrl: s.url,
    apiKey: API_KEY,
    requestsPerMinute: 1000,
    windowMs: 1000,
    timeoutMs: 2000,
    log: logs.log,
    backoff: { baseMs: 1, maxMs: 5 },
    ...over,
  });
}

beforeEach(async () => {
  s = await startStandIn({ apiKey: API_KEY, rpm: 1000, windowMs: 1000 });
  logs = capturingLogger();
  client = makeClient();
});
afterEach(async () => {
  await client.close();
  await s.close();
  expect(logs.lines.join('')).not.toContain(API_KEY);
});

const items = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, record: record(`${prefix}${i}`) }));
/** Fails the test instead of hanging when the client retries an answer forever. */
const within = (ms: number) => AbortSignal.timeout(ms);
const verdicts = (out: RecordOutcome[]) => out.map((o) => (o.status === 'rejected' ? `${o.key}: ${o.reason}` : `${o.key}: delivered`));

describe('counts that do not say which records failed (split until every failure is attributed)', () => {
  it('error items that carry only an id: the failed record is found, the others delivered', async () => {
    s.faults.set({ errorItems: 'id-only' }).rejectRecord('c2', 'Carrier not recognised');
    const out = await client.deliver(items(6), within(10_000));
    expect(verdicts(out)).toEqual([
      'c0: delivered',
      'c1: delivered',
      'c2: CareCycle reported this record as failed without a reason',
      'c3: delivered',
      'c4: delivered',
      'c5: delivered',
    ]);
    expect(s.store.customers.size).toBe(5);
    expect(s.requests[0]!.records).toBe(6);
    expect(s.requests.length).toBeGreaterThan(1);
  });

  it('failures counted but not listed, and succeeded counting them too: each one attributed', async () => {
    s.faults.set({ countsDisagree: true }).rejectRecord('c1', 'bad carrier').rejectRecord('c6', 'bad plan');
    const out = await client.deliver(items(8), within(10_000));
    expect(out.filter((o) => o.status === 'rejected').map((o) => o.status === 'rejected' && [o.key, o.reason, o.httpStatus])).toEqual([
      ['c1', 'bad carrier', 200],
      ['c6', 'bad plan', 200],
    ]);
    expect(out.filter((o) => o.status === 'delivered')).toHaveLength(6);
    expect(s.store.customers.size).toBe(6);
  });

  it('a batch whose answer agrees with itself goes in one request', async () => {
    s.faults.rejectRecord('c1', 'bad carrier');
    await client.deliver(items(8), within(10_000));
    expect(s.requests).toHaveLength(1);
  });
});

describe('2xx answers shaped differently are processed, not retried', () => {
  it('the older answer without results', async () => {
    s.faults.set({ answerShape: 'legacy' }).rejectRecord('c0', 'nope');
    const out = await client.deliver(items(3), within(10_000));
    expect(verdicts(out)).toEqual(['c0: nope', 'c1: delivered', 'c2: delivered']);
    expect(s.requests.map((r) => r.status)).toEqual([200]);
  });

  it('extra fields, no succeeded, message instead of error, results without previousStatus', async () => {
    s.faults.set({ answerShape: 'drifted' }).rejectRecord('c1', 'Plan not offered in this state');
    const out = await client.deliver(items(3), within(10_000));
    expect(verdicts(out)).toEqual(['c0: delivered', 'c1: Plan not offered in this state', 'c2: delivered']);
    expect(s.requests.map((r) => r.status)).toEqual([200]);
    expect(out[0]).toMatchObject({ customerId: s.store.byExternalId('c0')!.id });
  });
});

describe('a poison record never stalls the others', () => {
  it('one externalId that always gets 500 is rejected with the count; the rest is delivered', async () => {
    s.faults.poisonExternalIds.add('c5');
    const out = await client.deliver(items(8), within(20_000));
    expect(out.filter((o) => o.status === 'rejected')).toEqual([
      expect.objectContaining({ key: 'c5', reason: 'CareCycle answered 500 8 times', httpStatus: 500 }),
    ]);
    expect(s.store.customers.size).toBe(7);
    expect(s.requests.filter((r) => r.externalIds.includes('c5') && r.records === 1)).toHaveLength(8);
  });

  it('when every request fails it is an outage: nothing is rejected, everything goes once it ends', async () => {
    s.faults.set({ serverErrorRate: 1 });
    const pass = client.deliver(items(4), within(20_000));
    while (s.requests.length < 40) await new Promise((r) => setTimeout(r, 10));
    s.faults.set({ serverErrorRate: 0 });
    const out = await pass;
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(s.store.customers.size).toBe(4);
  });
});

describe('answers about the endpoint or the key', () => {
  it('an HTML 400 from a proxy stops delivery like a rejected key, with a snippet, without splitting', async () => {
    s.faults.set({ proxyHtml: 1 });
    const err = await client.deliver(items(10), within(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointError);
    expect((err as Error).message).toMatch(/HTTP 400 .*not CareCycle's validation answer.*400 Bad Request.*edge-proxy/);
    expect(s.requests).toHaveLength(1);
  });

  it('an HTML 403 from a firewall is an endpoint problem, not a key problem', async () => {
    s.faults.set({ proxyHtml: 1, proxyStatus: 403 });
    const err = await client.deliver(items(2), within(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EndpointError);
    expect(err).not.toBeInstanceOf(ApiKeyRejectedError);
  });

  it('a 429 that names no wait waits the documented whole window', async () => {
    s.faults.set({ rateLimitBurst: 1, retryAfterVia: 'none' });
    await client.deliver(items(1), within(10_000));
    expect(s.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('after a 401 the key file is read again: a rotated key is used without a restart', async () => {
    const dir = mkdtempSync(join(process.env.CARECYCLE_TEST_TMP ?? tmpdir(), 'ccs-key-'));
    try {
      const file = join(dir, 'api-key');
      writeFileSync(file, `${API_KEY}\n`);
      await client.close();
      client = makeClient({ reloadApiKey: apiKeyFileReader({ CARECYCLE_API_KEY_FILE: file }) });
      expect(verdicts(await client.deliver(items(1, 'a'), within(10_000)))).toEqual(['a0: delivered']);
      const rotated = 'cc_rotated_key_5678';
      s.setApiKey(rotated);
      writeFileSync(file, `${rotated}\n`);
      expect(verdicts(await client.deliver(items(1, 'b'), within(10_000)))).toEqual(['b0: delivered']);
      expect(s.requests.map((r) => r.status)).toEqual([200, 401, 200]);
      expect(logs.lines.join('')).not.toContain(rotated);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
