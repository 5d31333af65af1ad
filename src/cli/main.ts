#!/usr/bin/env node
import { runCli } from './program.js';
import { printError } from './context.js';

runCli(process.argv).catch((err: unknown) => {
  printError(err);
  process.exitCode = 1;
});
