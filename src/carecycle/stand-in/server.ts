/**
 * The CareCycle stand-in: a real HTTP server on loopback speaking `POST /v2/sync/aca` like the
 * contract in docs/carecycle-api.md, used by the demo, the tests and the benchmarks.
 * Order of checks per request: route → API key (401) → injected 429 burst → per-minute limit
 * (429) → latency → injected drop / 5xx / garbage → body validation (400) → records applied.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Faults } from './faults.js';
import { phraseAnswer } from './answer-shapes.js';
import { StandInStore, type NullHandling } from './store.js';
import { RollingWindow } from './rate-window.js';
import { authorize, errorReply, parseJsonBody, parseSyncBody, processRecords, rateLimitReply, type Reply } from './handler.js';

export interface StandInOptions {
  apiKey: string;
  /** Requests accepted per rolling window (default 60, the documented limit). */
  rpm?: number;
  /** Window length for the limit, ms (default 60,000; tests shrink it). */
  windowMs?: number;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** HTTP status for whole-request validation errors (undocumented: 400 or 422). Default 400. */
  validationStatus?: 400 | 422;
  /** Leave `errors[]` of validation errors empty (an API that names no record): default false. */
  hideValidationIssues?: boolean;
  /** Random source for fault rates (tests pass a seeded one). */
  random?: () => number;
  /** Largest accepted body, bytes (undocumented; default 10 MB). */
  maxBodyBytes?: number;
  /** What an explicit null in a record does: `clear` the stored value (default) or `ignore` it. */
  nullValues?: NullHandling;
  /** Called once per answered (or dropped) request, e.g. to print a line. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  /** When the request arrived (ms since epoch). */
  at: number;
  /** HTTP status answered; 0 when the connection was dropped. */
  status: number;
  /** Records in the body (0 if it could not be parsed). */
  records: number;
  externalIds: Array<string | null>;
  /** Which injected fault, or 'rate-limit' for a genuine 429. */
  fault?: string;
}

export interface StandIn {
  url: string;
  port: number;
  store: StandInStore;
  faults: Faults;
  requests: RequestLogEntry[];
  /** Changes the per-window limit at runtime. */
  setRpm(rpm: number): void;
  /** Changes the accepted API key at runtime (tests of a rotated or revoked key). */
  setApiKey(apiKey: string): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startStandIn(opts: StandInOptions): Promise<StandIn> {
  const store = new StandInStore(opts.nullValues);
  const faults = new Faults(opts.random);
  const window = new RollingWindow(opts.rpm ?? 60, opts.windowMs ?? 60_000);
  const requests: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const ctx: Ctx = { opts, store, faults, window, requests };

  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, errorReply(500, 'INTERNAL_ERROR', `stand-in failure: ${(err as Error).message}`));
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    store,
    faults,
    requests,
    setRpm: (rpm) => {
      window.limit = rpm;
    },
    setApiKey: (apiKey) => {
      ctx.opts = { ...ctx.opts, apiKey };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Ctx {
  opts: StandInOptions;
  store: StandInStore;
  faults: Faults;
  window: RollingWindow;
  requests: RequestLogEntry[];
}

async function handle(ctx: Ctx, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const at = Date.now();
  const entry: RequestLogEntry = { at, status: 0, records: 0, externalIds: [] };
  ctx.requests.push(entry);
  const text = await readBody(req, ctx.opts.maxBodyBytes ?? 10 * 1024 * 1024);
  const finish = (reply: Reply, fault?: string) => {
    entry.status = reply.status;
    if (fault) entry.fault = fault;
    send(res, reply);
    ctx.opts.onRequest?.(entry);
  };
  if (text === undefined) return finish(errorReply(413, 'VALIDATION_ERROR', 'Request body too large', { errors: [] }));
  if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v2/sync/aca') return finish(errorReply(404, 'NOT_FOUND', 'Not found'));
  const denied = authorize(req.headers['x-api-key'], ctx.opts.apiKey);
  if (denied) return finish(denied);
  const json = parseJsonBody(text);
  describeBody(entry, json);

  const verdict = ctx.faults.next();
  if (verdict.kind === 'rate-limit')
    return finish(rateLimitReply(ctx.faults.retryAfterSeconds, ctx.faults.retryAfterVia), 'rate-limit-burst');
  const waitMs = ctx.window.tryAcquire(at);
  if (waitMs > 0) return finish(rateLimitReply(Math.ceil(waitMs) / 1000), 'rate-limit');
  if (ctx.faults.latencyMs > 0) await sleep(ctx.faults.latencyMs);
  if (verdict.kind === 'drop' && !ctx.faults.dropAfterProcessing) return dropConnection(ctx, entry, res, 'drop');
  if (verdict.kind === 'server-error') return finish(errorReply(verdict.status, 'INTERNAL_ERROR', 'Internal server error'), 'server-error');
  if (verdict.kind === 'proxy-html') return finishHtml(ctx, entry, res, verdict.status);
  if (entry.externalIds.some((e) => e !== null && ctx.faults.poisonExternalIds.has(e))) {
    return finish(errorReply(500, 'INTERNAL_ERROR', 'Internal server error'), 'poison');
  }
  if (verdict.kind === 'garbage') {
    entry.status = 200;
    entry.fault = 'garbage';
    res.writeHead(200, { 'content-type': 'application/json' }).end('<html>upstream hiccup</html>');
    ctx.opts.onRequest?.(entry);
    return;
  }
  const parsed = parseSyncBody(json, ctx.opts.validationStatus ?? 400);
  if (!parsed.ok) {
    if (ctx.opts.hideValidationIssues) (parsed.reply.body as { errors: unknown[] }).errors = [];
    return finish(parsed.reply);
  }
  const body = processRecords(ctx.store, parsed.records, ctx.faults.recordErrors, Date.now());
  if (verdict.kind === 'drop') return dropConnection(ctx, entry, res, 'drop-after-processing');
  const f = ctx.faults;
  finish({ status: 200, body: phraseAnswer(body, { shape: f.answerShape, errorItems: f.errorItems, countsDisagree: f.countsDisagree }) });
}

/** A page from a proxy or firewall in front of the API: HTML, no CareCycle error body. */
function finishHtml(ctx: Ctx, entry: RequestLogEntry, res: ServerResponse, status: number): void {
  entry.status = status;
  entry.fault = 'proxy-html';
  const page = `<html><head><title>${status} Bad Request</title></head><body><center><h1>${status} Bad Request</h1></center><hr><center>edge-proxy</center></body></html>`;
  res.writeHead(status, { 'content-type': 'text/html' }).end(page);
  ctx.opts.onRequest?.(entry);
}

function dropConnection(ctx: Ctx, entry: RequestLogEntry, res: ServerResponse, fault: string): void {
  entry.status = 0;
  entry.fault = fault;
  res.socket?.destroy();
  ctx.opts.onRequest?.(entry);
}

/** Fills the log entry's record count and externalIds from a body, if it is JSON with records. */
function describeBody(entry: RequestLogEntry, json: unknown): void {
  const records = (json as { records?: unknown } | null)?.records;
  if (Array.isArray(records)) {
    entry.records = records.length;
    entry.externalIds = records.map((r: { externalId?: unknown } | null) => (typeof r?.externalId === 'string' ? r.externalId : null));
  }
}

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: Reply): void {
  const payload = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...reply.headers,
  });
  res.end(payload);
}
