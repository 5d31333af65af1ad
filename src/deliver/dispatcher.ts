import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Pool, ProxyAgent, type Dispatcher } from './undici-lean.js';
import { proxyFor, showProxy, type ProxySettings } from './proxy.js';

/**
 * The undici dispatcher for CareCycle requests: a keep-alive Pool to the API origin, or, when a
 * proxy applies (./proxy.ts), undici's ProxyAgent, which asks the proxy to connect (HTTP
 * CONNECT) so the API host name is resolved by the proxy, never here. `caFile` adds CAs (a
 * TLS-inspecting proxy's) to Node's built-in ones; without it Node's own trust store is used,
 * which includes NODE_EXTRA_CA_CERTS.
 */

export interface ApiNetworkOptions {
  proxy?: ProxySettings | undefined;
  /** PEM file of extra CAs to trust, for the API and for an https:// proxy. */
  caFile?: string | undefined;
}

export interface ApiDispatcherOptions extends ApiNetworkOptions {
  /** Per-phase timeout (connect, response headers, body gaps), ms. */
  timeoutMs: number;
  connections?: number;
  keepAliveMs?: number;
}

export interface ApiDispatcher {
  dispatcher: Dispatcher;
  /** The proxy used (credentials hidden), or undefined for a direct connection. */
  via: string | undefined;
}

/** Node's built-in CAs plus those in `caFile`; undefined keeps Node's defaults. */
export function trustedCas(caFile: string | undefined): string[] | undefined {
  if (!caFile) return undefined;
  return [...rootCertificates, readFileSync(caFile, 'utf8')];
}

export function createApiDispatcher(baseUrl: string, o: ApiDispatcherOptions): ApiDispatcher {
  const base = new URL(baseUrl);
  const ca = trustedCas(o.caFile);
  const tls = ca ? { ca } : {};
  const proxy = o.proxy ? proxyFor(base, o.proxy) : undefined;
  const common = {
    connections: o.connections ?? 4,
    keepAliveTimeout: o.keepAliveMs ?? 30_000,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  };
  if (!proxy) {
    return { dispatcher: new Pool(base.origin, { ...common, connect: { timeout: o.timeoutMs, ...tls } }), via: undefined };
  }
  const agent = new ProxyAgent({
    uri: proxy,
    ...common,
    connect: { timeout: o.timeoutMs },
    requestTls: { timeout: o.timeoutMs, ...tls },
    proxyTls: { timeout: o.timeoutMs, ...tls },
  });
  return { dispatcher: agent, via: showProxy(proxy) };
}
