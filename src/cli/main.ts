#!/usr/bin/env node
import { runCli } from './program.js';
import { printError } from './context.js';

// `carecycle-sync status | head`: a reader that closes the pipe early is not an error to report.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

runCli(process.argv).catch((err: unknown) => {
  printError(err);
  process.exitCode = 1;
});
