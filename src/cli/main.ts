#!/usr/bin/env node
import { printError } from './context.js';
import { brokenPipe, isBrokenPipe } from './broken-pipe.js';

// `carecycle-sync status | head`: a reader that closes the pipe early is not an error to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (isBrokenPipe(err)) return brokenPipe(err);
    throw err;
  });
}

// The daemon (`run`) loads only its own command; every other command goes through the full program.
const { runCli } = process.argv[2] === 'run' ? await import('./run-program.js') : await import('./program.js');
runCli(process.argv).catch((err: unknown) => {
  printError(err);
  process.exitCode = 1;
});
