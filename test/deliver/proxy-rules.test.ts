import { describe, expect, it } from 'vitest';
import { bypassesProxy, proxyFor, showProxy } from '../../src/deliver/proxy.js';
import { proxyFromEnv } from '../../src/config/proxy-env.js';

const P = 'http://proxy.corp:3128';
const via = (target: string, noProxy?: string) => proxyFor(new URL(target), { httpsUrl: P, httpUrl: 'http://plain-proxy:8080', noProxy });

describe('proxyFor: curl rules', () => {
  it('picks the proxy by the target scheme', () => {
    expect(via('https://api.carecycle.ai')).toBe(P);
    expect(via('http://api.carecycle.ai')).toBe('http://plain-proxy:8080');
    expect(proxyFor(new URL('https://api.carecycle.ai'), { httpUrl: 'http://x:1' })).toBeUndefined();
  });

  it('no_proxy: *, names with their subdomains, leading dots, ports, IPs and CIDR ranges', () => {
    const bypass = (target: string, np: string) => bypassesProxy(new URL(target), np);
    expect(bypass('https://api.carecycle.ai', '*')).toBe(true);
    expect(bypass('https://api.carecycle.ai', 'carecycle.ai')).toBe(true);
    expect(bypass('https://api.carecycle.ai', ' other.com , .carecycle.ai ')).toBe(true);
    expect(bypass('https://carecycle.ai', '.carecycle.ai')).toBe(true);
    expect(bypass('https://notcarecycle.ai', 'carecycle.ai')).toBe(false);
    expect(bypass('https://API.CareCycle.AI.', 'api.carecycle.ai')).toBe(true);
    expect(bypass('https://api.carecycle.ai', 'api.carecycle.ai:443')).toBe(true);
    expect(bypass('https://api.carecycle.ai', 'api.carecycle.ai:8443')).toBe(false);
    expect(bypass('https://api.carecycle.ai:8443', 'api.carecycle.ai:8443')).toBe(true);
    expect(bypass('https://10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(bypass('https://11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(bypass('https://10.1.2.3', '10.1.2.3')).toBe(true);
    expect(bypass('https://[fd00::5]', 'fd00::/8')).toBe(true);
    expect(bypass('https://[fd00::5]:8443', '[fd00::5]:8443')).toBe(true);
    expect(bypass('https://api.carecycle.ai', '')).toBe(false);
    expect(bypass('https://10.1.2.3', '10.0.0.0')).toBe(false);
  });

  it('loopback always goes direct (a proxy cannot reach this host)', () => {
    expect(via('http://127.0.0.1:8080')).toBeUndefined();
    expect(via('http://localhost:8080')).toBeUndefined();
    expect(via('http://[::1]:8080')).toBeUndefined();
  });

  it('hides proxy credentials', () => {
    expect(showProxy('http://agency:secret@proxy.corp:3128')).toBe('http://***@proxy.corp:3128');
    expect(showProxy(P)).toBe(P);
  });
});

describe('proxyFromEnv: as curl reads the variables', () => {
  it('lower case first, upper case next; all_proxy as the fallback; an empty value is unset', () => {
    expect(proxyFromEnv({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:1' }).httpsUrl).toEqual({
      value: 'http://a:1',
      variable: 'https_proxy',
    });
    expect(proxyFromEnv({ https_proxy: '', HTTPS_PROXY: 'http://b:1' }).httpsUrl).toEqual({ value: 'http://b:1', variable: 'HTTPS_PROXY' });
    expect(proxyFromEnv({ ALL_PROXY: 'http://c:1' })).toEqual({
      httpsUrl: { value: 'http://c:1', variable: 'ALL_PROXY' },
      httpUrl: { value: 'http://c:1', variable: 'ALL_PROXY' },
    });
    expect(proxyFromEnv({ NO_PROXY: 'x.com', no_proxy: 'y.com' }).noProxy).toEqual({ value: 'y.com', variable: 'no_proxy' });
  });

  it('http_proxy only in lower case; a proxy without a scheme is http://', () => {
    expect(proxyFromEnv({ HTTP_PROXY: 'http://evil:1' })).toEqual({});
    expect(proxyFromEnv({ http_proxy: 'proxy.corp:3128' }).httpUrl).toEqual({ value: 'http://proxy.corp:3128', variable: 'http_proxy' });
  });
});
