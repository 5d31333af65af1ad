import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import type { AcaRecord } from '../../src/carecycle/schema.js';

const KEY = 'cc_test_key';
let s: StandIn;

const rec = (externalId: string, extra: Partial<AcaRecord> = {}): AcaRecord => ({
  firstName: 'Ada',
  lastName: 'Lovelace',
  phoneNumber: '5551234567',
  postalCode: '60601',
  externalId,
  ...extra,
});

async function post(body: unknown, key: string | null = KEY): Promise<{ status: number; json: any; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers['x-api-key'] = key;
  const res = await fetch(`${s.url}/v2/sync/aca`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

beforeEach(async () => {
  s = await startStandIn({ apiKey: KEY, rpm: 1000 });
});
afterEach(async () => {
  await s.close();
});

describe('stand-in contract', () => {
  it('rejects a missing, wrong or non-cc_ key with 401 UNAUTHORIZED and stores nothing', async () => {
    for (const key of [null, 'cc_other', 'sk_test_key']) {
      const r = await post({ records: [rec('a')] }, key);
      expect(r.status).toBe(401);
      expect(r.json.code).toBe('UNAUTHORIZED');
    }
    expect(s.store.customers.size).toBe(0);
  });

  it('rejects the whole request on one invalid record, with zod-like paths', async () => {
    const r = await post({ records: [rec('a'), rec('b', { phoneNumber: '555-123-4567' })] });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('VALIDATION_ERROR');
    expect(r.json.errors[0].path).toEqual(['records', 1, 'phoneNumber']);
    expect(s.store.customers.size).toBe(0);
    expect((await post('not json')).status).toBe(400);
    expect((await post({ records: [] })).json.errors[0].path).toEqual(['records']);
  });

  it('rejects two records with the same externalId in one request', async () => {
    const r = await post({ records: [rec('a'), rec('b'), rec('a')] });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual([expect.objectContaining({ path: ['records', 2, 'externalId'] })]);
  });

  it('answers the newer shape, defaults policy status to Active and matches policies by id', async () => {
    const first = await post({ records: [rec('a', { policies: [{ healthSherpaPolicyId: 'hs1', status: null }, {}] })] });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ succeeded: 1, failed: 0, errors: [] });
    expect(first.json.results[0].policies.map((p: any) => [p.status, p.previousStatus])).toEqual([
      ['Active', null],
      ['Active', null],
    ]);
    await post({ records: [rec('a', { firstName: 'Augusta', policies: [{ healthSherpaPolicyId: 'hs1', status: 'Cancelled' }, {}] })] });
    const c = s.store.byExternalId('a')!;
    expect(c.fields.firstName).toBe('Augusta');
    // hs1 updated in place; the id-less policy is new on every send (3 policies now).
    expect(c.policies.map((p) => p.fields.status)).toEqual(['Cancelled', 'Active', 'Active']);
    expect(s.store.customers.size).toBe(1);
  });

  it('matches customers on the first identifier present, else name+DOB+phone', async () => {
    await post({ records: [rec('x', { healthSherpaCustomerId: 'HS-1' })] });
    // Same HS id, different externalId: the HS id decides, so it is the same customer.
    await post({ records: [rec('y', { healthSherpaCustomerId: 'HS-1' })] });
    expect(s.store.customers.size).toBe(1);
    const noIds = { firstName: 'Grace', lastName: 'Hopper', phoneNumber: '(555) 000-1111', dateOfBirth: '12/09/1906', postalCode: '10001' };
    await post({ records: [noIds] });
    await post({ records: [{ ...noIds, phoneNumber: '+15550001111', dateOfBirth: '12-09-1906', city: 'NYC' }] });
    expect(s.store.customers.size).toBe(2);
  });

  it('auto-terminates year-old policies when a new one is created', async () => {
    await post({ records: [rec('a', { policies: [{ healthSherpaPolicyId: 'old', effectiveDate: '01/01/2020' }] })] });
    const r = await post({ records: [rec('a', { policies: [{ healthSherpaPolicyId: 'new', effectiveDate: '01/01/2099' }] })] });
    const old = r.json.results[0].policies.find((p: any) => p.healthSherpaPolicyId === 'old');
    expect(old).toMatchObject({ previousStatus: 'Active', status: 'Terminated' });
  });

  it('enforces the per-window request limit with body retryAfter and Retry-After header', async () => {
    await s.close();
    s = await startStandIn({ apiKey: KEY, rpm: 3, windowMs: 400 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post({ records: [rec(`r${i}`)] })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const r = await post({ records: [rec('z')] });
    expect(r.json).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', message: 'Rate limit exceeded' });
    expect(r.json.retryAfter).toBeGreaterThan(0);
    expect(r.json.retryAfter).toBeLessThanOrEqual(0.4);
    expect(r.headers.get('retry-after')).toBe('1');
    await new Promise((res) => setTimeout(res, 450));
    expect((await post({ records: [rec('z')] })).status).toBe(200);
  });
});

describe('stand-in faults', () => {
  it('injects 429 bursts, 5xx, garbage and per-record errors on demand', async () => {
    s.faults.set({ rateLimitBurst: 2, retryAfterSeconds: 0.05, retryAfterVia: 'body' });
    expect((await post({ records: [rec('a')] })).json).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED', retryAfter: 0.05 });
    expect((await post({ records: [rec('a')] })).headers.get('retry-after')).toBeNull();
    s.faults.set({ serverErrors: 1 });
    expect((await post({ records: [rec('a')] })).status).toBe(500);
    s.faults.set({ garbageResponses: 1 });
    expect((await post({ records: [rec('a')] })).json).toBe('<html>upstream hiccup</html>');
    s.faults.rejectRecord('b', 'carrier not recognised');
    const r = await post({ records: [rec('a'), rec('b')] });
    expect(r.json).toMatchObject({ succeeded: 1, failed: 1, errors: [{ externalId: 'b', error: 'carrier not recognised' }] });
    expect(s.store.byExternalId('b')).toBeUndefined();
    expect(s.requests.map((q) => q.status)).toEqual([429, 429, 500, 200, 200]);
  });

  it('drops connections before or after processing, and delays answers', async () => {
    s.faults.set({ dropConnections: 1 });
    await expect(post({ records: [rec('a')] })).rejects.toThrow();
    expect(s.store.byExternalId('a')).toBeUndefined();
    s.faults.set({ dropConnections: 1, dropAfterProcessing: true });
    await expect(post({ records: [rec('a')] })).rejects.toThrow();
    expect(s.store.byExternalId('a')).toBeDefined();
    s.faults.reset().set({ latencyMs: 150 });
    const t0 = Date.now();
    expect((await post({ records: [rec('a')] })).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});
