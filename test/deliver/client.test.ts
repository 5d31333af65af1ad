import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import {
  createDeliveryClient,
  ApiKeyRejectedError,
  type DeliveryClient,
  type DeliveryClientOptions,
  type RequestObservation,
} from '../../src/deliver/index.js';
import { FatalError } from '../../src/errors.js';
import { API_KEY, capturingLogger, record } from './helpers.js';

let s: StandIn;
let client: DeliveryClient;
let observed: RequestObservation[];
let logs: ReturnType<typeof capturingLogger>;

function makeClient(over: Partial<DeliveryClientOptions> = {}): DeliveryClient {
  return createDeliveryClient({
    baseUrl: s.url,
    apiKey: API_KEY,
    requestsPerMinute: 1000,
    windowMs: 1000,
    timeoutMs: 2000,
    log: logs.log,
    backoff: { baseMs: 10, maxMs: 100 },
    observer: (o) => observed.push(o),
    ...over,
  });
}

beforeEach(async () => {
  s = await startStandIn({ apiKey: API_KEY, rpm: 1000, windowMs: 1000 });
  observed = [];
  logs = capturingLogger();
  client = makeClient();
});
afterEach(async () => {
  await client.close();
  await s.close();
  expect(logs.lines.join('')).not.toContain(API_KEY);
});

const items = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, record: record(`${prefix}${i}`) }));

describe('delivery client against the stand-in', () => {
  it('delivers in requests of at most 100 and reports CareCycle ids', async () => {
    const out = await client.deliver(items(250));
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(s.requests.map((r) => r.records).sort()).toEqual([100, 100, 50]);
    expect(s.store.customers.size).toBe(250);
    const o = out[7]!;
    expect(o.status === 'delivered' && o.customerId).toBe(s.store.byExternalId('c7')!.id);
    expect(observed.map((x) => x.status)).toEqual([200, 200, 200]);
  });

  it('waits retryAfter from the body after a 429, then delivers', async () => {
    s.faults.set({ rateLimitBurst: 2, retryAfterSeconds: 0.15, retryAfterVia: 'body' });
    const out = await client.deliver(items(3));
    expect(out.map((o) => o.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(s.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(140);
    expect(observed[1]!.rateLimitWaitMs).toBeGreaterThanOrEqual(140);
  });

  it('honours a Retry-After header when the body has no retryAfter', async () => {
    s.faults.set({ rateLimitBurst: 1, retryAfterSeconds: 1, retryAfterVia: 'header' });
    await client.deliver(items(1));
    expect(s.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('retries 5xx and unreadable 200s with backoff until delivered', async () => {
    await client.close();
    client = makeClient({ splitAfterFailures: 10 });
    s.faults.set({ serverErrors: 3, garbageResponses: 1 });
    const out = await client.deliver(items(5));
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(s.requests.map((r) => r.status)).toEqual([500, 500, 500, 200, 200]);
    expect(s.store.customers.size).toBe(5);
  });

  it('retries dropped connections, before and after processing, without duplicates', async () => {
    s.faults.set({ dropConnections: 1 });
    await client.deliver(items(3, 'a'));
    s.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    const out = await client.deliver(items(3, 'b'));
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(s.requests.map((r) => r.fault ?? r.status)).toEqual(['drop', 200, 'drop-after-processing', 200]);
    expect(s.store.customers.size).toBe(6);
  });

  it('times out a slow answer and retries it', async () => {
    await client.close();
    client = makeClient({
      timeoutMs: 100,
      observer: (o) => {
        observed.push(o);
        s.faults.set({ latencyMs: 0 });
      },
    });
    s.faults.set({ latencyMs: 300 });
    const out = await client.deliver(items(2));
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(observed.map((o) => o.verdict)).toEqual(['network-error', 'ok']);
    expect(s.store.customers.size).toBe(2);
  });

  it('isolates invalid records of a refused request with the API path and message', async () => {
    const batch = items(100);
    batch[10]!.record.phoneNumber = '555-123-4567';
    batch[55]!.record.policies = [{ status: 'Lapsed' as never }];
    batch[56]!.record.dateOfBirth = '1990-01-31';
    const out = await client.deliver(batch);
    const rejected = out.filter((o) => o.status === 'rejected');
    expect(rejected.map((o) => [o.key, o.status === 'rejected' && o.fieldPath, o.status === 'rejected' && o.httpStatus])).toEqual([
      ['c10', 'phoneNumber', 400],
      ['c55', 'policies[0].status', 400],
      ['c56', 'dateOfBirth', 400],
    ]);
    expect(s.store.customers.size).toBe(97);
    // one refused request, then the rest together and the three alone
    expect(s.requests.map((r) => r.records)).toEqual([100, 97, 1, 1, 1]);
  });

  it('splits in halves when a 422 names no record', async () => {
    await s.close();
    s = await startStandIn({ apiKey: API_KEY, rpm: 1000, windowMs: 1000, validationStatus: 422, hideValidationIssues: true });
    await client.close();
    client = makeClient();
    const batch = items(8);
    batch[5]!.record.firstName = '';
    const out = await client.deliver(batch);
    expect(out.filter((o) => o.status === 'rejected').map((o) => o.status === 'rejected' && [o.key, o.reason, o.httpStatus])).toEqual([
      ['c5', 'Validation failed', 422],
    ]);
    expect(s.requests.map((r) => `${r.records}:${r.status}`)).toEqual(['8:422', '4:200', '4:422', '2:422', '1:200', '1:422', '2:200']);
    expect(s.store.customers.size).toBe(7);
  });

  it('reports per-record errors of a 200 by externalId', async () => {
    s.faults.rejectRecord('c1', 'Carrier not recognised');
    const out = await client.deliver(items(3));
    expect(out[1]).toMatchObject({ key: 'c1', status: 'rejected', reason: 'Carrier not recognised', httpStatus: 200 });
    expect(out[0]!.status).toBe('delivered');
    expect(out[2]!.status).toBe('delivered');
  });

  it('sends the parts of a split customer in separate, successive requests', async () => {
    const pol = (n: number) => Array.from({ length: 10 }, (_, i) => ({ healthSherpaPolicyId: `p${n}-${i}` }));
    const list = [
      { key: 'big', record: record('big', { policies: pol(1) }) },
      ...items(3),
      { key: 'big', record: record('big', { policies: pol(2) }) },
      { key: 'big', record: record('big', { policies: pol(3).slice(0, 5) }) },
    ];
    const out = await client.deliver(list);
    expect(out.every((o) => o.status === 'delivered')).toBe(true);
    expect(s.requests.every((r) => r.status === 200)).toBe(true);
    for (const r of s.requests) expect(new Set(r.externalIds).size).toBe(r.externalIds.length);
    expect(s.store.byExternalId('big')!.policies).toHaveLength(25);
  });
});

describe('fatal answers and shutdown', () => {
  it('stops on a rejected key with a typed error, without a retry storm or the key in the message', async () => {
    await client.close();
    client = createDeliveryClient({
      baseUrl: s.url,
      apiKey: 'cc_wrong_key_9876',
      requestsPerMinute: 1000,
      windowMs: 1000,
      timeoutMs: 2000,
      log: logs.log,
      maxInFlight: 2,
    });
    const err = await client.deliver(items(500)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiKeyRejectedError);
    expect(err).toBeInstanceOf(FatalError);
    expect((err as Error).message).toMatch(/HTTP 401 UNAUTHORIZED/);
    expect((err as Error).message).not.toContain('cc_wrong_key_9876');
    expect(s.requests.length).toBeLessThanOrEqual(2);
    // Inside the cool-down, a new call fails at once without asking the server again.
    const before = s.requests.length;
    await expect(client.deliver(items(1))).rejects.toBeInstanceOf(ApiKeyRejectedError);
    expect(s.requests.length).toBe(before);
    expect(logs.lines.join('')).not.toContain('cc_wrong_key_9876');
  });

  it('aborts a long 429 wait promptly on shutdown, dropping nothing it claims', async () => {
    s.faults.set({ rateLimitBurst: 1, retryAfterSeconds: 30 });
    const ac = new AbortController();
    const p = client.deliver(items(2), ac.signal);
    setTimeout(() => ac.abort(new Error('shutting down')), 100);
    const t0 = Date.now();
    await expect(p).rejects.toThrow('shutting down');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(s.store.customers.size).toBe(0);
  });
});
