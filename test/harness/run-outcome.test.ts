import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startCluster, type PgCluster } from './pg-cluster.js';
import { findBinaries } from './plan.js';

/**
 * What CI reads: the exit code and the last line of a whole vitest run, run here as a child
 * process. A run whose Postgres can't be had is a failure (never "0 passed, 0 failed"), and
 * PG_TEST_URL collapses the matrix, says so, and leaves nothing behind on that server.
 */
const ROOT = resolve(import.meta.dirname, '../..');

interface Run {
  code: number | null;
  out: string;
  lastLine: string;
}

function vitest(args: string[], env: Record<string, string>): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && !k.startsWith('PG_TEST_')));
  const bin = resolve(ROOT, 'node_modules/vitest/vitest.mjs');
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, 'run', ...args],
      { cwd: ROOT, env: { ...clean, NO_COLOR: '1', PG_TEST_DOCKER: '0', ...env } },
      (err, stdout, stderr) => {
        const lines = stdout.trimEnd().split('\n');
        done({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          out: stdout + stderr,
          lastLine: lines[lines.length - 1] ?? '',
        });
      },
    );
  });
}

const SMOKE = 'test/harness/smoke.pg.test.ts';
const bins = findBinaries('15') ?? findBinaries('18');

describe('a whole test run, as CI sees it', () => {
  it('counts passed, failed and skipped tests on the last line, and fails the run', async () => {
    const r = await vitest(['--config', 'test/harness/fixtures/vitest.config.ts'], {});
    expect(r.lastLine).toBe('tests: 1 passed, 1 failed, 1 skipped');
    expect(r.code).toBe(1);
  });

  it('counts an unreachable PG_TEST_URL as a failure, with the fix and without the password', async () => {
    const r = await vitest([SMOKE], { PG_TEST_URL: 'postgres://postgres:Harness-Pw-77@127.0.0.1:1/postgres' });
    expect(r.code).toBe(1);
    expect(r.lastLine).toBe('tests: 0 passed, 1 failed');
    expect(r.out).toContain('PG_TEST_URL (postgres://postgres:***@127.0.0.1:1/postgres) is not reachable');
    expect(r.out).toContain('unset PG_TEST_URL');
    expect(r.out).not.toContain('Harness-Pw-77');
  });

  describe.skipIf(!bins)('against a given server (PG_TEST_URL)', () => {
    let replica: PgCluster;
    let logical: PgCluster;
    beforeAll(async () => {
      [replica, logical] = await Promise.all([
        startCluster({ binDir: bins!.binDir, settings: { wal_level: 'replica' } }),
        startCluster({ binDir: bins!.binDir }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([replica?.destroy(), logical?.destroy()]);
    });

    it('refuses wal_level=replica, saying how to fix it', async () => {
      const r = await vitest([SMOKE], { PG_TEST_URL: replica.url });
      expect(r.code).toBe(1);
      expect(r.lastLine).toBe('tests: 0 passed, 1 failed');
      expect(r.out).toContain('has wal_level=replica, and these tests need wal_level=logical');
      expect(r.out).toContain('ALTER SYSTEM SET wal_level = logical;');
    });

    it('runs once on it, says the matrix collapsed, and drops its databases and slots afterwards', async () => {
      const r = await vitest([SMOKE], { PG_TEST_URL: logical.url });
      expect(r.code).toBe(0);
      expect(r.out).toContain('|pg| test/harness/smoke.pg.test.ts');
      expect(r.out).toContain('warning: PG_TEST_URL is set: the Postgres tests run on that one server only');
      expect(r.lastLine).toBe('tests: 1 passed, 0 failed');
      const c = new pg.Client({ connectionString: logical.url });
      await c.connect();
      const dbs = await c.query("SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')");
      const slots = await c.query('SELECT slot_name FROM pg_replication_slots');
      await c.end();
      expect(dbs.rows).toEqual([]);
      expect(slots.rows).toEqual([]); // the smoke test made one: it would pin that server's WAL
    });
  });
});
