import type { Command } from 'commander';
import { commands } from './commands/index.js';
import { createProgram, runProgram } from './program-base.js';

/** Builds the `carecycle-sync` command line; each command lives in ./commands/<name>.ts. */
export function buildProgram(): Command {
  return createProgram(commands);
}

/** Runs the program; commander's usage errors exit 2, help and version exit 0. */
export async function runCli(argv: string[]): Promise<void> {
  await runProgram(buildProgram(), argv);
}
