import { request } from 'undici';
import { createApiDispatcher, type ApiNetworkOptions } from '../../deliver/dispatcher.js';
import { scrub } from '../../log/secrets.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/**
 * Is CareCycle reachable and is the key accepted? `POST /v2/sync/aca` with `{"records": []}`:
 * the body is invalid (1–100 records), so a valid key gets VALIDATION_ERROR and nothing is
 * written; a bad key gets 401 first. It costs one request of the per-minute budget.
 */

export interface ApiCheckOptions {
  baseUrl: string;
  apiKey: string | undefined;
  timeoutMs?: number;
  /** Proxy and extra CAs, as the daemon uses them. */
  network?: ApiNetworkOptions;
  /** Hears the HTTP status of the probe's answer (0: none), to record it. */
  onAnswer?: (status: number) => void;
}

const NAME = 'CareCycle API';
const COST = 'this probe used 1 request of the per-minute budget';
const KEY_FIX =
  'set CARECYCLE_API_KEY (or CARECYCLE_API_KEY_FILE) to a production key from the Developer Dashboard → API Keys; playground keys expire after 14 days';

export interface ProbeAnswer {
  status: number;
  code?: string;
  message?: string;
  retryAfter?: number;
}

/** The verdict on one probe answer (pure). */
export function judgeProbe(a: ProbeAnswer, url: string): CheckResult {
  const said = a.code ? ` (${a.code}${a.message ? `: ${a.message}` : ''})` : '';
  if ((a.status === 400 || a.status === 422) && a.code === 'VALIDATION_ERROR') return pass(NAME, `${url} reachable, key accepted; ${COST}`);
  if (a.status === 200) return pass(NAME, `${url} reachable, key accepted (an empty batch was accepted); ${COST}`);
  if (a.status === 401) return fail(NAME, `${url} rejected the API key: HTTP 401${said}; ${COST}`, KEY_FIX);
  if (a.status === 403)
    return fail(
      NAME,
      `${url}: the key lacks permission for /v2/sync/aca: HTTP 403${said}; ${COST}`,
      'create a key with the sync permission in the Developer Dashboard → API Keys',
    );
  if (a.status === 429) {
    const wait = a.retryAfter !== undefined ? ` for ${a.retryAfter} s` : '';
    return warn(
      NAME,
      `${url} reachable but rate limited${wait} (a running daemon may be using the budget), so the key could not be verified`,
      'run carecycle-sync doctor again later',
    );
  }
  if (a.status === 404)
    return fail(
      NAME,
      `${url}: HTTP 404${said}: this does not look like the CareCycle API`,
      'check carecycle.baseUrl / CARECYCLE_BASE_URL (default https://api.carecycle.ai)',
    );
  if (a.status >= 500)
    return fail(
      NAME,
      `${url}: HTTP ${a.status}${said}: CareCycle has a problem; the daemon retries such errors by itself`,
      'wait and run carecycle-sync doctor again; contact CareCycle support if it persists',
    );
  return fail(NAME, `${url}: unexpected HTTP ${a.status}${said} to an empty batch`, 'check carecycle.baseUrl / CARECYCLE_BASE_URL');
}

export async function checkApi(opts: ApiCheckOptions): Promise<CheckResult> {
  const url = new URL('/v2/sync/aca', opts.baseUrl).toString();
  if (!opts.apiKey) return fail(NAME, 'no API key configured', KEY_FIX);
  let api: ReturnType<typeof createApiDispatcher>;
  try {
    api = createApiDispatcher(opts.baseUrl, { ...opts.network, timeoutMs: opts.timeoutMs ?? 15_000, connections: 1 });
  } catch (err) {
    return fail(
      NAME,
      `cannot set up the connection: ${scrub((err as Error).message)}`,
      'check carecycle.caFile and the proxy settings (carecycle.proxy, HTTPS_PROXY)',
    );
  }
  const via = api.via ? ` through the proxy ${api.via}` : '';
  try {
    const res = await request(url, {
      dispatcher: api.dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': opts.apiKey },
      body: JSON.stringify({ records: [] }),
      headersTimeout: opts.timeoutMs ?? 15_000,
      bodyTimeout: opts.timeoutMs ?? 15_000,
    });
    const text = await res.body.text();
    opts.onAnswer?.(res.statusCode);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      /* not JSON: judged by status alone */
    }
    const answer: ProbeAnswer = {
      status: res.statusCode,
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
      ...(typeof body.message === 'string' ? { message: scrub(body.message) } : {}),
      ...(typeof body.retryAfter === 'number' ? { retryAfter: body.retryAfter } : {}),
    };
    const verdict = judgeProbe(answer, url);
    return { ...verdict, detail: verdict.detail.replace(url, `${url}${via}`) };
  } catch (err) {
    opts.onAnswer?.(0);
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = e.code ?? e.cause?.code ?? '';
    return fail(
      NAME,
      `cannot reach ${url}${via}: ${scrub(e.message)}${code && !e.message.includes(code) ? ` (${code})` : ''}`,
      api.via
        ? 'check the proxy (carecycle.proxy / HTTPS_PROXY, NO_PROXY) and, for a TLS-inspecting proxy, that carecycle.caFile or NODE_EXTRA_CA_CERTS holds its CA'
        : 'check carecycle.baseUrl / CARECYCLE_BASE_URL, DNS, and that outbound HTTPS (port 443) is allowed from this host; behind a proxy set HTTPS_PROXY',
    );
  } finally {
    await api.dispatcher.close().catch(() => undefined);
  }
}
