import { join } from 'node:path';
import { bundleCli } from '../../scripts/bundle.js';

/**
 * The tests run the real CLI as a child process many times, and they run what ships: the bundle
 * `npm run build` makes (scripts/bundle.ts), built once per run under .tmp/ (git-ignored).
 * Through tsx each start would cost ~2.5 s of CPU (its loader resolves every module through a
 * worker). vitest.config.ts builds it and passes its path in CARECYCLE_CLI_BUNDLE.
 */
export function buildCliBundle(root: string): string {
  return bundleCli(join(root, '.tmp', 'cli-bundle'));
}

/** argv (after `node`) that runs the CLI: the bundle when built, else the sources through tsx. */
export function cliArgs(...args: string[]): string[] {
  const bundle = process.env.CARECYCLE_CLI_BUNDLE;
  return bundle ? [bundle, ...args] : ['--import', 'tsx', join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts'), ...args];
}
