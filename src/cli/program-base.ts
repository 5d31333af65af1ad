import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

/** The `carecycle-sync` command line with the given commands (each from ./commands/<name>.ts). */
export function createProgram(registers: ReadonlyArray<(program: Command) => void>): Command {
  const program = new Command('carecycle-sync')
    .description(
      'Keeps CareCycle in step with your Postgres CRM: streams changes to customers and policies ' +
        'through logical replication and delivers them to POST /v2/sync/aca within the rate limit.',
    )
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.configureOutput({ outputError: (str, write) => write(str) });
  for (const register of registers) register(program);
  program.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 runtime failure, 2 bad usage or invalid config.\n' +
      'Environment: CARECYCLE_SYNC_CONFIG, DATABASE_URL, STATE_DATABASE_URL, CARECYCLE_API_KEY(_FILE),\n' +
      '             CARECYCLE_BASE_URL, LOG_LEVEL, PORT (they override the config file).',
  );
  return program;
}

/** Runs the program; commander's usage errors exit 2, help and version exit 0. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
      return;
    }
    throw err;
  }
}

/** The version in package.json (npm_package_version is set only under `npm run`). */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
