import { register as run } from './commands/run.js';
import { createProgram, runProgram } from './program-base.js';

/**
 * `carecycle-sync run …` alone: the long-lived daemon loads its own command's modules only, not
 * every other command's (doctor, demo, the stand-in, init…), which it would otherwise carry in
 * memory for as long as it runs. Same program, options and exit codes as ./program.ts.
 */
export async function runCli(argv: string[]): Promise<void> {
  await runProgram(createProgram([run]), argv);
}
