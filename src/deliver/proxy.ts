import { BlockList, isIP } from 'node:net';

/**
 * Which proxy, if any, a CareCycle request goes through: the rules curl applies to
 * https_proxy / http_proxy / no_proxy (docs/outbound-proxy.md). Pure; the config loader has
 * already read the environment into `ProxySettings`.
 */

export interface ProxySettings {
  /** For https:// targets (https_proxy, HTTPS_PROXY, then all_proxy, ALL_PROXY). */
  httpsUrl?: string | undefined;
  /** For http:// targets (http_proxy, then all_proxy, ALL_PROXY). */
  httpUrl?: string | undefined;
  /** Hosts that bypass the proxy (no_proxy, NO_PROXY). */
  noProxy?: string | undefined;
}

/** The proxy URL for `target`, or undefined to connect directly. */
export function proxyFor(target: URL, s: ProxySettings): string | undefined {
  const proxy = target.protocol === 'https:' ? s.httpsUrl : target.protocol === 'http:' ? s.httpUrl : undefined;
  if (!proxy) return undefined;
  return bypassesProxy(target, s.noProxy ?? '') ? undefined : proxy;
}

const defaultPort = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : 80));
const bare = (h: string) =>
  h
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();

/**
 * curl's no_proxy, plus loopback always direct: a comma-separated list; `*` alone matches every host; a name matches itself
 * and its subdomains (a leading dot is ignored); an IP address matches itself and a CIDR range
 * its addresses; an entry with `:port` matches only that port.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = bare(target.hostname);
  const port = defaultPort(target);
  // A proxy cannot reach this host's loopback: such requests always go direct (as in Go's net/http).
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1' || inCidr(host, '127.0.0.0', 8)) return true;
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (matchesHost(host, name)) return true;
  }
  return false;
}

function splitPort(entry: string): { name: string; entryPort?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { name: v6[1]!, ...(v6[2] ? { entryPort: Number(v6[2]) } : {}) };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  if (m) return { name: m[1]!, entryPort: Number(m[2]) };
  return { name: entry };
}

function matchesHost(host: string, name: string): boolean {
  const slash = name.indexOf('/');
  if (slash > 0 && isIP(host)) return inCidr(host, name.slice(0, slash), Number(name.slice(slash + 1)));
  if (isIP(name) || isIP(host)) return host === name;
  const domain = name.replace(/^\*?\./, '').replace(/\.$/, '');
  return host === domain || host.endsWith(`.${domain}`);
}

function inCidr(host: string, net: string, bits: number): boolean {
  const family = isIP(net) === 6 ? 'ipv6' : isIP(net) === 4 ? 'ipv4' : undefined;
  if (!family || !Number.isInteger(bits) || isIP(host) !== isIP(net)) return false;
  const list = new BlockList();
  list.addSubnet(net, bits, family);
  return list.check(host, family);
}

/** For logs and doctor: the proxy URL without its credentials. */
export function showProxy(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}
