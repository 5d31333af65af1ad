import type { Command } from 'commander';
import { withConfigOption, loadContext, action, type GlobalOptions } from '../context.js';
import { UsageError } from '../../errors.js';
import { startDaemon } from '../../daemon/daemon.js';

interface RunOptions extends GlobalOptions {
  port?: string;
  setup?: boolean;
  backfill?: boolean;
  drainTimeout?: string;
}

export function register(program: Command): void {
  withConfigOption(
    program
      .command('run')
      .description('the daemon: stream changes from the slot and deliver them to CareCycle (runs setup first; a new slot is backfilled)')
      .option(
        '-p, --port <port>',
        'port of /healthz, /readyz and /metrics (env PORT; default from config, 8080); 0 picks a free one, "off" disables',
      )
      .option('--no-setup', 'do not create missing state schema, publication or slot (a DBA ran `setup --print-sql`)')
      .option('--no-backfill', 'do not backfill a newly created slot by itself')
      .option('--drain-timeout <seconds>', 'on SIGTERM/SIGINT, how long to finish the request in flight and confirm before exiting', '25'),
  ).action(action((opts: RunOptions) => run(opts)));
}

function parsePort(v: string | undefined, fallback: number): number | null {
  if (v === undefined) return fallback;
  if (v === 'off') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`run: --port must be a port number or "off", found ${JSON.stringify(v)}`);
  return n;
}

async function run(opts: RunOptions): Promise<number> {
  const { config, path, log } = loadContext(opts);
  const port = parsePort(opts.port, config.server.port);
  const drainMs = Number(opts.drainTimeout) * 1000;
  if (!(drainMs > 0))
    throw new UsageError(`run: --drain-timeout must be a positive number of seconds, found ${JSON.stringify(opts.drainTimeout)}`);
  const daemon = await startDaemon({ config, configPath: path, log, port, setup: opts.setup, initialBackfill: opts.backfill });
  if (daemon.health) log.info({ port: daemon.health.port }, 'health and metrics on /healthz, /readyz, /metrics');
  const soft = new AbortController();
  const hard = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info({ signal: sig, drainSeconds: drainMs / 1000 }, 'stopping: finishing the request in flight, flushing and confirming');
      soft.abort(new Error(`received ${sig}`));
      setTimeout(() => {
        log.warn('drain deadline passed: stopping now; unfinished keys stay pending');
        hard.abort(new Error('drain deadline'));
        // Whatever still hangs (a state database that stopped answering) must not keep us alive.
        setTimeout(() => {
          log.error('still not stopped 5 s after the drain deadline: exiting; nothing confirmed is lost');
          process.exit(1);
        }, 5000).unref();
      }, drainMs).unref();
    } else {
      log.warn({ signal: sig }, 'second signal: exiting at once; nothing confirmed is lost, unsettled keys stay pending');
      process.exit(130);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await daemon.run(soft.signal, hard.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  log.info('stopped');
  return 0;
}
