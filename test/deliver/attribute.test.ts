/** The pure decisions about CareCycle's answers: who failed, what an answer is, how failures read. */
import { describe, expect, it } from 'vitest';
import { attributeAnswer } from '../../src/deliver/attribute.js';
import { bodySnippet, classifyResponse } from '../../src/deliver/classify.js';
import { describeFailures } from '../../src/deliver/send.js';
import { ApiKeyRejectedError } from '../../src/deliver/errors.js';
import { readSyncAnswer } from '../../src/carecycle/schema.js';
import { RateLimiter } from '../../src/deliver/limiter.js';
import { planProbe } from '../../src/commands/doctor/api-budget.js';

const ids = ['a', 'b', 'c', 'd'];
const err = (externalId: string | null, error = 'bad') => ({ id: null, externalId, error });
const failedOf = (r: ReturnType<typeof attributeAnswer>) => (r.kind === 'attributed' ? Object.fromEntries(r.failed) : r.kind);

describe('attributeAnswer', () => {
  it('pins failures named by externalId when the counts agree', () => {
    expect(failedOf(attributeAnswer(ids, { succeeded: 3, failed: 1, errors: [err('c', 'no carrier')] }))).toEqual({ 2: 'no carrier' });
    expect(failedOf(attributeAnswer(ids, { errors: [] }))).toEqual({});
  });

  it('cannot tell who failed: an error naming no record, more failures than named, counts not adding up', () => {
    expect(attributeAnswer(ids, { succeeded: 3, failed: 1, errors: [err(null)] }).kind).toBe('ambiguous');
    expect(attributeAnswer(ids, { succeeded: 3, failed: 1, errors: [err('zz')] }).kind).toBe('ambiguous');
    expect(attributeAnswer(ids, { succeeded: 2, failed: 2, errors: [err('a')] }).kind).toBe('ambiguous');
    expect(attributeAnswer(ids, { failed: 1, errors: [] }).kind).toBe('ambiguous');
    expect(attributeAnswer(ids, { succeeded: 4, failed: 1, errors: [err('a')] }).kind).toBe('ambiguous');
    expect(attributeAnswer(ids, { succeeded: 1, failed: 0, errors: [] }).kind).toBe('ambiguous');
  });

  it('a lone record: any error or failure count is about it, an answer counting nothing is no success', () => {
    expect(failedOf(attributeAnswer(['a'], { failed: 1, errors: [err(null, 'why')] }))).toEqual({ 0: 'why' });
    expect(failedOf(attributeAnswer(['a'], { succeeded: 1, failed: 1, errors: [] }))).toEqual({
      0: expect.stringContaining('without saying why'),
    });
    expect(failedOf(attributeAnswer(['a'], { succeeded: 0, failed: 0, errors: [] }))).toEqual({ 0: expect.stringContaining('neither') });
    expect(failedOf(attributeAnswer(['a'], { succeeded: 1, failed: 0, errors: [] }))).toEqual({});
  });
});

describe('reading 2xx answers', () => {
  it('takes what it can from any JSON object and nothing from other JSON', () => {
    expect(
      readSyncAnswer({
        failed: 1,
        errors: [{ externalId: 'a', message: 'm' }, { id: 'u1' }],
        results: [{ nope: 1 }, { id: 'x', externalId: 'b' }],
        extra: true,
      }),
    ).toEqual({
      failed: 1,
      errors: [
        { id: null, externalId: 'a', error: 'm' },
        { id: 'u1', externalId: null, error: expect.stringContaining('without a reason') },
      ],
      results: [{ id: 'x', externalId: 'b' }],
    });
    expect(readSyncAnswer([1])).toBeUndefined();
    expect(readSyncAnswer('ok')).toBeUndefined();
  });

  it('classifies a 2xx without our fields as ok, an unreadable one as retry', () => {
    expect(classifyResponse({ status: 200, headers: {}, body: '{"status":"done"}' }).kind).toBe('ok');
    expect(classifyResponse({ status: 200, headers: {}, body: '<html>' }).kind).toBe('retry');
  });
});

describe('4xx that are not about the records', () => {
  it('an HTML or code-less 400/403 is an endpoint problem with a snippet; VALIDATION_ERROR is about the records', () => {
    const html = classifyResponse({
      status: 400,
      headers: {},
      body: '<html><head><style>x{}</style></head><body><h1>Request blocked</h1> by WAF</body></html>',
    });
    expect(html).toMatchObject({ kind: 'fatal', status: 400, message: expect.stringContaining('Request blocked by WAF') });
    expect(classifyResponse({ status: 403, headers: {}, body: '<h1>Forbidden</h1>' }).kind).toBe('fatal');
    expect(classifyResponse({ status: 422, headers: {}, body: '{"message":"nope","code":"SOMETHING"}' }).kind).toBe('fatal');
    expect(classifyResponse({ status: 400, headers: {}, body: '{"message":"m","code":"VALIDATION_ERROR","errors":[]}' }).kind).toBe(
      'invalid',
    );
  });

  it('401 is a rejected key; 403 FORBIDDEN says the key lacks permission', () => {
    expect(classifyResponse({ status: 401, headers: {}, body: '' })).toMatchObject({ kind: 'auth', refusal: 'unauthorized' });
    const v = classifyResponse({ status: 403, headers: {}, body: '{"message":"Insufficient permissions","code":"FORBIDDEN"}' });
    expect(v).toMatchObject({ kind: 'auth', refusal: 'forbidden' });
    expect(new ApiKeyRejectedError(403, 'FORBIDDEN', 'Insufficient permissions', 'forbidden').message).toMatch(/lacks permission/);
    expect(new ApiKeyRejectedError(401, 'UNAUTHORIZED', 'API key invalid').message).toMatch(/rejected the API key/);
  });

  it('snippets are short, one line, without tags', () => {
    expect(bodySnippet(`<p>${'x'.repeat(500)}</p>`)).toHaveLength(161);
    expect(bodySnippet('')).toBe('(empty body)');
  });
});

describe('describeFailures', () => {
  it('counts each kind of failure', () => {
    expect(describeFailures(Array(8).fill({ status: 500, label: 'answered 500' }))).toBe('CareCycle answered 500 8 times');
    expect(
      describeFailures([
        { status: 503, label: 'answered 503' },
        { status: 0, label: 'gave no answer within 10 ms' },
      ]),
    ).toBe('CareCycle answered 503 1 time; gave no answer within 10 ms 1 time');
  });
});

describe('the limiter seeded from recorded requests', () => {
  it('a full window recorded by an earlier process delays the first request until it clears; a pause too', async () => {
    const full = new RateLimiter({ limit: 3, windowMs: 300, marginMs: 0 });
    full.seed([200, 190, 180]);
    const waited = await full.acquire();
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(1000);
    const fresh = new RateLimiter({ limit: 3, windowMs: 300, marginMs: 0 });
    expect(await fresh.acquire()).toBeLessThan(50);
    const paused = new RateLimiter({ limit: 3, windowMs: 300, marginMs: 0 });
    paused.seed([], 400);
    expect(await paused.acquire()).toBeGreaterThanOrEqual(390);
  });

  it("doctor's probe goes only when the recorded window has room and the daemon is not sending", () => {
    expect(planProbe({ window: [], pauseLeftMs: 0 }, 60)).toEqual({ kind: 'send', waitMs: 0 });
    expect(planProbe({ window: [{ agoMs: 100, origin: 'doctor' }], pauseLeftMs: 0 }, 60).kind).toBe('send');
    expect(
      planProbe({ window: [{ agoMs: 100, origin: 'run' }], pauseLeftMs: 0, lastRunAnswer: { status: 200, agoMs: 100 } }, 60),
    ).toMatchObject({ kind: 'skip', evidence: { status: 200 } });
    expect(
      planProbe({ window: Array.from({ length: 60 }, (_, i) => ({ agoMs: 100 + i * 100, origin: 'doctor' })), pauseLeftMs: 0 }, 60),
    ).toMatchObject({ kind: 'skip' });
    expect(planProbe({ window: [], pauseLeftMs: 5000 }, 60)).toMatchObject({ kind: 'skip', reason: expect.stringContaining('429') });
  });
});
