import { join } from 'node:path';
import { bundleCli } from '../../scripts/bundle.js';
import { packageRoot } from '../../src/paths.js';

/**
 * The CLI as an operator runs it: the bundle `npm run build` makes (scripts/bundle.ts), on plain
 * `node`, not the sources through tsx, whose module loader runs in a thread of its own and adds
 * tens of MB to the process. Built under .tmp/ (git-ignored), so dist/ is left alone.
 */
export function buildBenchCli(): string {
  return bundleCli(join(packageRoot(), '.tmp', 'bench-cli'));
}
