import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

/**
 * The CLI as an operator runs it: compiled JavaScript on plain `node`, not the sources through
 * tsx, whose module loader runs in a thread of its own and adds tens of MB to the process. One
 * esbuild file of our sources; packages stay external (the same node_modules). Built under
 * .tmp/ (git-ignored) so the packages resolve from the checkout.
 */
export function buildBenchCli(): string {
  const outfile = join(packageRoot(), '.tmp', 'bench-cli', 'main.mjs');
  buildSync({
    entryPoints: [join(packageRoot(), 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}
