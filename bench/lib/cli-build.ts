import { buildSync } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';

/**
 * The CLI as an operator runs it: compiled JavaScript on plain `node`, not the sources through
 * tsx, whose module loader runs in a thread of its own and adds tens of MB to the process.
 * esbuild with code splitting, so a dynamic import stays lazy as in tsc's dist/ (one file would
 * hoist every package import to its top); packages stay external (the same node_modules). Built
 * under .tmp/ (git-ignored) so the packages resolve from the checkout.
 */
export function buildBenchCli(): string {
  const outdir = join(packageRoot(), '.tmp', 'bench-cli');
  rmSync(outdir, { recursive: true, force: true });
  buildSync({
    entryPoints: [join(packageRoot(), 'src', 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    splitting: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
  return join(outdir, 'main.mjs');
}
