/**
 * The narrow HTTP interface the delivery client needs, so tests hand it a real stand-in URL
 * and nothing else. The production transport is an undici Pool:
 * keep-alive connections to one origin, connect/headers/body timeouts; or a ProxyAgent when a
 * proxy applies (./dispatcher.ts).
 */
import { createApiDispatcher, type ApiNetworkOptions } from './dispatcher.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpTransport {
  /** POSTs `body` to `path`; rejects on network errors, timeouts and aborts. */
  post(path: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface UndiciTransportOptions {
  /** Per-phase timeout (connect, response headers, body gaps), ms. */
  timeoutMs: number;
  /** Concurrent connections to the origin (default 4). */
  connections?: number;
  /** How long an idle keep-alive connection is kept (default 30 s). */
  keepAliveMs?: number;
  /** Proxy and extra CAs (./dispatcher.ts). */
  network?: ApiNetworkOptions;
}

export function createUndiciTransport(baseUrl: string, opts: UndiciTransportOptions): HttpTransport {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  const { dispatcher: pool } = createApiDispatcher(baseUrl, { ...opts.network, ...opts });
  return {
    async post(path, body, headers, signal) {
      const res = await pool.request({ origin: base.origin, path: prefix + path, method: 'POST', headers, body, signal });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body: text };
    },
    close: () => pool.close(),
  };
}
