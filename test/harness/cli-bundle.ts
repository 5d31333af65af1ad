import { buildSync } from 'esbuild';
import { join } from 'node:path';

/**
 * The tests run the real CLI as a child process many times. Through tsx each start costs
 * ~2.5 s of CPU (its loader resolves every module through a worker); a bundle of our own
 * sources (packages stay external, so the same node_modules are used) starts in ~0.9 s.
 * vitest.config.ts builds it once per run and passes its path in CARECYCLE_CLI_BUNDLE.
 */
export function buildCliBundle(root: string): string {
  const outfile = join(root, '.tmp', 'cli-bundle', 'main.mjs');
  buildSync({
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
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

/** argv (after `node`) that runs the CLI: the bundle when built, else the sources through tsx. */
export function cliArgs(...args: string[]): string[] {
  const bundle = process.env.CARECYCLE_CLI_BUNDLE;
  return bundle ? [bundle, ...args] : ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), ...args];
}
