import { Counter, type Registry } from 'prom-client';
import { createApiDispatcher, type ApiDispatcher, type ApiNetworkOptions } from '../../deliver/dispatcher.js';
import type { Logger } from '../../log/logger.js';
import { registerSecret, scrub } from '../../log/secrets.js';
import { METRIC_PREFIX } from '../metrics.js';
import { slackBody, type AlertMessage } from './engine.js';

/**
 * Delivers alert messages to the configured webhooks, in the background: `send` returns at
 * once, so a slow or dead receiver never holds up the sync. Each delivery is retried with
 * exponential backoff (1 s, 2 s, 4 s, 8 s: five attempts); a delivery that still fails is
 * logged and counted. A webhook URL is a credential (Slack's carries its secret in the path),
 * so it is registered as a secret and logs name the webhook by index and host only. Webhooks
 * go out the way CareCycle requests do: through the same outbound proxy (and no_proxy) and CAs.
 */

export interface Webhook {
  url: string;
  events?: string[];
  format: 'slack' | 'json';
}

export interface SenderOptions {
  webhooks: Webhook[];
  log: Logger;
  registry: Registry;
  /** carecycle.proxy and carecycle.caFile. */
  network?: ApiNetworkOptions;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

export interface Sender {
  send(m: AlertMessage): void;
  /** Resolves when every delivery started so far has finished (tests, shutdown). */
  settled(): Promise<void>;
  /** Stops retrying; deliveries in flight are abandoned. */
  close(): void;
}

export function createSender(o: SenderOptions): Sender {
  const log = o.log.child({ component: 'alerts' });
  for (const w of o.webhooks) registerSecret(w.url);
  const sent = new Counter({
    name: `${METRIC_PREFIX}alerts_sent_total`,
    help: 'Alert messages delivered to a webhook, by event and status (firing, resolved).',
    labelNames: ['event', 'status'] as const,
    registers: [o.registry],
  });
  const failed = new Counter({
    name: `${METRIC_PREFIX}alert_delivery_failures_total`,
    help: 'Alert messages a webhook did not accept after every retry, by event.',
    labelNames: ['event'] as const,
    registers: [o.registry],
  });
  const stop = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const attempts = o.attempts ?? 5;
  const base = o.baseDelayMs ?? 1000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const dispatchers = new Map<string, ApiDispatcher>();
  const dispatcherFor = (url: string) => {
    let d = dispatchers.get(url);
    if (!d) dispatchers.set(url, (d = createApiDispatcher(url, { ...o.network, timeoutMs, connections: 1, keepAliveMs: 5_000 })));
    return d.dispatcher;
  };

  async function deliver(index: number, w: Webhook, m: AlertMessage): Promise<void> {
    const body = JSON.stringify(scrubDeep(w.format === 'slack' ? slackBody(m) : m));
    const name = `alerts.webhooks[${index}] (${hostOf(w.url)})`;
    let last = '';
    for (let attempt = 1; attempt <= attempts && !stop.signal.aborted; attempt++) {
      try {
        const url = new URL(w.url);
        const res = await dispatcherFor(w.url).request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await res.body.dump().catch(() => undefined);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          sent.inc({ event: m.event, status: m.status });
          log.info({ webhook: name, event: m.event, status: m.status }, `alert sent: ${m.event} ${m.status}`);
          return;
        }
        last = `HTTP ${res.statusCode}`;
      } catch (err) {
        last = scrub((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message);
      }
      if (attempt < attempts) await sleep(base * 2 ** (attempt - 1), stop.signal);
    }
    if (stop.signal.aborted) return;
    failed.inc({ event: m.event });
    log.warn(
      { webhook: name, event: m.event, status: m.status, attempts, error: last },
      `alert not delivered: ${name} failed ${attempts} times (${last})`,
    );
  }

  return {
    send(m) {
      o.webhooks.forEach((w, i) => {
        if (w.events && !w.events.includes(m.event)) return;
        const p = deliver(i, w, m).catch(() => undefined);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      });
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    close() {
      stop.abort();
      for (const d of dispatchers.values()) void d.dispatcher.close().catch(() => undefined);
    },
  };
}

/** Every string in the message through `scrub`: a check's detail can quote a server error. */
function scrubDeep(v: unknown): unknown {
  if (typeof v === 'string') return scrub(v);
  if (Array.isArray(v)) return v.map(scrubDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubDeep(x)]));
  return v;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid url';
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
