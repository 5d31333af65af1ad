/**
 * The proxy environment variables, read as curl reads them: the lower-case name wins over the
 * upper-case one; http_proxy exists only in lower case (a CGI environment sets HTTP_PROXY from a
 * request's `Proxy:` header); all_proxy is the fallback for both schemes; an empty value counts
 * as unset; a proxy without a scheme is http://. Pure: the loader passes the environment.
 */

export type ProxyKey = 'httpsUrl' | 'httpUrl' | 'noProxy';

const VARIABLES: Record<ProxyKey, readonly string[]> = {
  httpsUrl: ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'],
  httpUrl: ['http_proxy', 'all_proxy', 'ALL_PROXY'],
  noProxy: ['no_proxy', 'NO_PROXY'],
};

export function proxyFromEnv(env: NodeJS.ProcessEnv): Partial<Record<ProxyKey, { value: string; variable: string }>> {
  const out: Partial<Record<ProxyKey, { value: string; variable: string }>> = {};
  for (const key of Object.keys(VARIABLES) as ProxyKey[]) {
    const variable = VARIABLES[key].find((v) => (env[v] ?? '').trim() !== '');
    if (!variable) continue;
    const raw = env[variable]!.trim();
    out[key] = { value: key === 'noProxy' || raw.includes('://') ? raw : `http://${raw}`, variable };
  }
  return out;
}
