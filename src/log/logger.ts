import pino, { type Logger, type LevelWithSilent } from 'pino';
import { scrub } from './secrets.js';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent | string;
  /** Human-readable output (pino-pretty). Default: when stderr is a TTY. */
  pretty?: boolean;
  /**
   * Where JSON lines go (tests pass a stream). Default stderr: stdout belongs to the commands'
   * own output (`status --json | jq`, `setup --print-sql > file`), which log lines must not corrupt.
   */
  destination?: pino.DestinationStream;
}

/** Paths pino blanks out before serialising; `scrub` below catches whatever slips through. */
const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'password',
  '*.password',
  '*.*.password',
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  '*.*.headers["x-api-key"]',
  'config.carecycle.apiKey',
];

/**
 * The one root logger. Components take `log.child({ component: 'source' })`.
 * Every line passes through `scrub`, so registered secrets, URL passwords and `cc_` keys never
 * reach the output, whatever field or error message carried them.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = (opts.level ?? 'info') as LevelWithSilent;
  const pretty = opts.pretty ?? (opts.destination === undefined && process.stderr.isTTY === true);
  const base: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: { streamWrite: (s: string) => scrub(s) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: 2 },
      },
    });
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything (for library use and quiet tests). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
