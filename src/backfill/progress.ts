import cliProgress from 'cli-progress';
import { formatCount, formatDuration } from '../lib/units.js';
import { deliveryEtaMs, etaAtRateMs, RateMeter } from './eta.js';

/**
 * Shows backfill progress: a cli-progress bar on a terminal, a line every few seconds otherwise
 * (CI logs, `docker logs`). Two phases: enqueueing (fast, local) and draining (delivery at the
 * rate limit). Each line shows both the enqueue progress and the delivery ETA, which is the one
 * that matters to a user waiting for CareCycle to be complete.
 */

export interface EnqueueView {
  runId: string;
  enqueued: number;
  total: number;
  /** keys/s over the last seconds. */
  rate: number;
  /** Keys of this run not yet delivered (pending + not yet enqueued). */
  remaining: number;
}

export interface DrainView {
  runId: string;
  /** Keys of the run that left the queue (delivered, skipped as unchanged, or dead-lettered). */
  settled: number;
  total: number;
  pending: number;
  /** settled keys/s over the last seconds. */
  rate: number;
}

export interface Limits {
  requestsPerMinute: number;
  batchSize: number;
}

const pct = (a: number, b: number) => (b > 0 ? Math.floor((a * 100) / b) : 100);

export function formatEnqueueLine(v: EnqueueView, limits: Limits): string {
  const eta = etaAtRateMs(v.total - v.enqueued, v.rate);
  return (
    `enqueued ${formatCount(v.enqueued)}/${formatCount(v.total)} (${pct(v.enqueued, v.total)}%)` +
    ` | ${v.rate > 0 ? formatCount(v.rate) : '-'} keys/s | enqueue ETA ${eta === null ? '-' : formatDuration(eta)}` +
    ` | delivery ETA ${formatDuration(deliveryEtaMs(v.remaining, limits.requestsPerMinute, limits.batchSize))}` +
    ` at ${limits.requestsPerMinute} req/min`
  );
}

export function formatDrainLine(v: DrainView, limits: Limits): string {
  // Until delivery has a measured rate, the rate limit is the best estimate.
  const eta = etaAtRateMs(v.pending, v.rate) ?? deliveryEtaMs(v.pending, limits.requestsPerMinute, limits.batchSize);
  return (
    `delivered ${formatCount(v.settled)}/${formatCount(v.total)} (${pct(v.settled, v.total)}%)` +
    ` | ${formatCount(v.pending)} pending | ${(v.rate * 60).toFixed(0)} records/min | ETA ${formatDuration(eta)}`
  );
}

export interface Reporter {
  enqueue(v: Omit<EnqueueView, 'rate'>): void;
  drain(v: Omit<DrainView, 'rate'>): void;
  /** Finishes the current bar (a newline on a terminal). */
  stop(): void;
}

export interface ReporterOptions {
  limits: Limits;
  stream?: NodeJS.WriteStream;
  /** Where non-TTY lines go (default: the stream). */
  line?: (text: string) => void;
  /** Non-TTY: at most one line per this many ms (phase changes and the end always print). */
  intervalMs?: number;
  tty?: boolean;
}

export function createReporter(opts: ReporterOptions): Reporter {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? stream.isTTY === true;
  return tty
    ? barReporter(stream, opts.limits)
    : lineReporter(opts.line ?? ((t) => stream.write(`${t}\n`)), opts.limits, opts.intervalMs ?? 5000);
}

function barReporter(stream: NodeJS.WriteStream, limits: Limits): Reporter {
  let bar: cliProgress.SingleBar | undefined;
  let phase: 'enqueue' | 'drain' | undefined;
  let text = '';
  const meter = new RateMeter();
  const show = (next: 'enqueue' | 'drain', value: number, total: number, line: string) => {
    text = line;
    if (phase !== next) {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          hideCursor: true,
          barsize: 24,
          format: (_o, p) => `${next === 'enqueue' ? 'enqueue' : 'deliver'} ${barText(p.progress)} ${text}`,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, value);
      phase = next;
    }
    bar!.setTotal(total);
    bar!.update(value);
  };
  return {
    enqueue(v) {
      if (phase !== 'enqueue') meter.reset();
      meter.add(Date.now(), v.enqueued);
      show('enqueue', v.enqueued, v.total, formatEnqueueLine({ ...v, rate: meter.perSecond() }, limits));
    },
    drain(v) {
      if (phase !== 'drain') meter.reset();
      meter.add(Date.now(), v.settled);
      show('drain', v.settled, v.total, formatDrainLine({ ...v, rate: meter.perSecond() }, limits));
    },
    stop() {
      bar?.stop();
      bar = undefined;
      phase = undefined;
    },
  };
}

function barText(progress: number): string {
  const n = Math.round(Math.min(1, Math.max(0, progress)) * 24);
  return `[${'█'.repeat(n)}${'░'.repeat(24 - n)}]`;
}

function lineReporter(line: (t: string) => void, limits: Limits, intervalMs: number): Reporter {
  const meter = new RateMeter(Math.max(10_000, intervalMs * 2));
  let phase: 'enqueue' | 'drain' | undefined;
  let lastAt = 0;
  let pendingLine: string | undefined;
  const emit = (next: 'enqueue' | 'drain', text: string, force: boolean) => {
    const now = Date.now();
    if (force || phase !== next || now - lastAt >= intervalMs) {
      line(`backfill: ${text}`);
      lastAt = now;
      pendingLine = undefined;
    } else pendingLine = text;
    phase = next;
  };
  return {
    enqueue(v) {
      if (phase !== 'enqueue') meter.reset();
      meter.add(Date.now(), v.enqueued);
      emit('enqueue', formatEnqueueLine({ ...v, rate: meter.perSecond() }, limits), v.enqueued >= v.total);
    },
    drain(v) {
      if (phase !== 'drain') meter.reset();
      meter.add(Date.now(), v.settled);
      emit('drain', formatDrainLine({ ...v, rate: meter.perSecond() }, limits), v.pending === 0);
    },
    stop() {
      if (pendingLine) line(`backfill: ${pendingLine}`);
      pendingLine = undefined;
      phase = undefined;
    },
  };
}
