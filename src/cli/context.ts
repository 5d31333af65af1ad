import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { createLogger, type Logger } from '../log/logger.js';
import { exitCodeOf, ConfigError } from '../errors.js';
import { scrub } from '../log/secrets.js';
import type { Config } from '../config/schema.js';
import { explainTlsFailureIn } from '../config/pg-tls-errors.js';

export interface CommandContext extends LoadedConfig {
  log: Logger;
}

export interface GlobalOptions {
  config?: string;
}

/** Loads the config named by --config (or the environment) and makes the root logger. */
export function loadContext(opts: GlobalOptions): CommandContext {
  const loaded = loadConfig({ path: opts.config });
  loadedConfig = loaded.config;
  const log = createLogger({ level: loaded.config.log.level });
  return { ...loaded, log };
}

/** Adds the option every command takes. */
export function withConfigOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'config file (env CARECYCLE_SYNC_CONFIG; default config/carecycle-sync.yaml)');
}

/**
 * Wraps a command action: prints errors without secrets, and sets the exit code
 * (docs/architecture.md, "External contract") (0 ok, 1 runtime failure, 2 usage or config). An
 * action may return a number to choose its code.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (err) {
      printError(err);
      process.exitCode = exitCodeOf(err);
    }
  };
}

/** The config of this command, once loaded: printError explains TLS failures with it. */
let loadedConfig: Config | undefined;

export function printError(err: unknown): void {
  if (err instanceof ConfigError) {
    process.stderr.write(scrub(`error: ${err.message}\n`));
    for (const p of err.problems) process.stderr.write(scrub(`  - ${p}\n`));
    return;
  }
  const e = err as Error;
  const msg = e?.message ?? String(err);
  process.stderr.write(scrub(`error: ${msg}\n`));
  const tls = loadedConfig ? explainTlsFailureIn(err, loadedConfig) : undefined;
  if (tls) process.stderr.write(scrub(`  ${tls.detail}\n  fix: ${tls.fix}\n`));
  let cause = (e as { cause?: unknown })?.cause;
  while (cause instanceof Error) {
    process.stderr.write(scrub(`  caused by: ${cause.message}\n`));
    cause = (cause as { cause?: unknown }).cause;
  }
  if (process.env.LOG_LEVEL === 'debug' && e?.stack) process.stderr.write(scrub(`${e.stack}\n`));
}
