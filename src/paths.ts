import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and sql/ live), found from this file whether run from src/ or from the bundle in dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('carecycle-sync: cannot find the package root (package.json beside sql/)');
    dir = up;
  }
}

export const sqlDir = (): string => join(packageRoot(), 'sql');
