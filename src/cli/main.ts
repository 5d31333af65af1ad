#!/usr/bin/env node
import { runCli } from './program.js';
import { printError } from './context.js';
import { brokenPipe, isBrokenPipe } from './broken-pipe.js';

// `carecycle-sync status | head`: a reader that closes the pipe early is not an error to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (isBrokenPipe(err)) return brokenPipe(err);
    throw err;
  });
}

runCli(process.argv).catch((err: unknown) => {
  printError(err);
  process.exitCode = 1;
});
