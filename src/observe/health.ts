import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { scrub } from '../log/secrets.js';
import type { Metrics } from './metrics.js';

/**
 * Health and metrics over HTTP on `PORT` (docs/architecture.md, "External contract"):
 *   /healthz  200 while the process is alive (liveness: restart me only if this stops answering)
 *   /readyz   200 or 503 with the checks as JSON (readiness means "data flows": replication
 *             connected, state DB reachable, heartbeat seen recently, API key not rejected;
 *             a green check on a stalled stream is the failure to avoid)
 *   /metrics  Prometheus text
 * The `run` command supplies the readiness function; this module only serves it.
 */

export interface CheckResult {
  ok: boolean;
  detail?: string;
  /** A stable name for code that must tell one failure from another (`standby`); never read `detail`. */
  code?: string;
}

/** The replication check's code while another instance holds the slot. */
export const STANDBY = 'standby';

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface HealthServerOptions {
  port: number;
  /** Default 0.0.0.0: probes come from the kubelet or Docker, not from loopback. */
  host?: string;
  metrics: Metrics;
  readiness: () => Promise<Readiness>;
  log: Logger;
  /** A readiness function that hangs answers 503 after this. Default 5000 ms. */
  readinessTimeoutMs?: number;
  /** More routes (the status page and its actions): true when it answered the request. */
  routes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

export interface HealthServer {
  port: number;
  /** Stops listening and ends open connections; safe to call twice. */
  close(): Promise<void>;
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const log = opts.log.child({ component: 'health' });
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    route(opts, req, res).catch((err: unknown) => {
      log.warn({ err: scrub(String((err as Error)?.message ?? err)), path: req.url }, 'health endpoint failed');
      if (!res.headersSent) sendText(res, 500, `internal error: ${scrub((err as Error)?.message ?? String(err))}\n`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`health server: cannot listen on ${opts.host ?? '0.0.0.0'}:${opts.port}: ${err.message}`, { cause: err })),
    );
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'health and metrics listening (/healthz, /readyz, /metrics)');

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

async function route(opts: HealthServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (opts.routes && (await opts.routes(req, res, path))) return;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return sendText(res, 405, 'method not allowed\n');
  }
  switch (path) {
    case '/healthz':
      return sendText(res, 200, 'ok\n');
    case '/readyz': {
      const r = await readinessWithin(opts.readiness, opts.readinessTimeoutMs ?? 5000);
      return sendJson(res, r.ready ? 200 : 503, r);
    }
    case '/metrics': {
      const text = await opts.metrics.render();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType, 'Cache-Control': 'no-store' });
      res.end(text);
      return;
    }
    default:
      return sendText(res, 404, `not found; try /healthz, /readyz or /metrics${opts.routes ? ', or / for the status page' : ''}\n`);
  }
}

/** A readiness function that throws or hangs means "not ready", with the reason as a check. */
export async function readinessWithin(fn: () => Promise<Readiness>, timeoutMs: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`readiness checks took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    // Ready only if every check agrees: a caller that says ready with a failing check is wrong.
    return { ready: r.ready && Object.values(r.checks).every((c) => c.ok), checks: r.checks };
  } catch (err) {
    return { ready: false, checks: { readiness: { ok: false, detail: scrub((err as Error)?.message ?? String(err)) } } };
  } finally {
    clearTimeout(timer);
  }
}

function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(scrub(JSON.stringify(body)));
}
