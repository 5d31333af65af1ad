import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../log/logger.js';
import { scrub } from '../../log/secrets.js';
import { readinessWithin, type Readiness } from '../health.js';
import { METRIC_PREFIX } from '../metrics.js';
import type { StatusReport } from '../status/collect.js';
import type { AlertsSettings } from './conditions.js';
import { evaluate, newTracks, type AlertMessage } from './engine.js';
import { createSender, type Sender, type Webhook } from './sender.js';
import type { ApiNetworkOptions } from '../../deliver/dispatcher.js';

/**
 * Looks at the daemon every few seconds (readiness and the status document), sets the `ready`
 * gauge, and, when webhooks are configured, turns what changed into alert messages. Runs on a
 * timer of its own beside the services; a failed look is skipped, never fatal.
 */

export interface MonitorOptions {
  settings: AlertsSettings & { webhooks: Webhook[] };
  /** Names the daemon in messages: the slot. */
  instance: string;
  readiness: () => Promise<Readiness>;
  status: () => Promise<StatusReport>;
  registry: Registry;
  log: Logger;
  /** Default: a quarter of notReadyMinutes, between 0.25 and 15 s. */
  intervalMs?: number;
  /** Delivery options of the sender: the outbound proxy and CAs (tests shorten the backoff). */
  sender?: { attempts?: number; baseDelayMs?: number; network?: ApiNetworkOptions };
}

export interface Monitor {
  stop(): void;
  /** Resolves once deliveries started so far have finished. */
  settled(): Promise<void>;
}

export function intervalFor(notReadyMinutes: number): number {
  return Math.min(15_000, Math.max(250, (notReadyMinutes * 60_000) / 4));
}

export function startMonitor(o: MonitorOptions): Monitor {
  const log = o.log.child({ component: 'alerts' });
  const ready = new Gauge({
    name: `${METRIC_PREFIX}ready`,
    help: '1 while /readyz answers ready (refreshed every few seconds), else 0.',
    registers: [o.registry],
  });
  const sender: Sender | null =
    o.settings.webhooks.length > 0 ? createSender({ webhooks: o.settings.webhooks, log: o.log, registry: o.registry, ...o.sender }) : null;
  const tracks = newTracks();
  const every = o.intervalMs ?? intervalFor(o.settings.notReadyMinutes);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function tick(): Promise<void> {
    const r = await readinessWithin(o.readiness, 5000);
    ready.set(r.ready ? 1 : 0);
    if (!sender) return;
    const status = await o.status().catch((err: unknown) => {
      log.debug({ err: scrub(String((err as Error)?.message ?? err)) }, 'alerts: status not readable this time');
      return null;
    });
    const messages: AlertMessage[] = evaluate(tracks, { now: Date.now(), ready: r, status }, o.settings, o.instance);
    for (const m of messages) sender.send(m);
  }

  const loop = () => {
    if (stopped) return;
    tick()
      .catch((err: unknown) => log.warn({ err: scrub(String((err as Error)?.message ?? err)) }, 'alerts check failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, every);
      });
  };
  timer = setTimeout(loop, Math.min(every, 1000));
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      sender?.close();
    },
    settled: () => sender?.settled() ?? Promise.resolve(),
  };
}
