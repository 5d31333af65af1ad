import { describe, it, expect, inject, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sqlDir } from '../../src/paths.js';
import { startCluster, type PgCluster } from '../harness/pg-cluster.js';
import { sql } from '../harness/db.js';
import { demoConfig } from './fixtures.js';
import { confirmedAtLeast, currentLsn, pendingKeys, setupFor, startCapture, waitFor } from './helpers.js';

/** (d) A full server restart, on a private cluster: capture resumes by itself, nothing lost. */
const binDir = inject('pgBinDir');

describe.skipIf(!binDir)('capture across a server restart', { timeout: 90_000 }, () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startCluster({ binDir });
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('reconnects after the server comes back and captures changes from before and after', async () => {
    await sql(cluster.url, 'CREATE DATABASE crm');
    const url = cluster.url.replace(/\/postgres$/, '/crm');
    await sql(url, readFileSync(join(sqlDir(), 'crm', 'schema.sql'), 'utf8'));
    await sql(url, 'INSERT INTO customers (id) SELECT g FROM generate_series(1, 100) g');
    const config = await setupFor(demoConfig(url));
    const run = startCapture(config);
    const changed = new Set<string>();
    const change = async (ids: number[]) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        for (const id of ids) {
          await c.query('UPDATE customers SET notes = now()::text WHERE id = $1', [id]);
          changed.add(String(id));
        }
      } finally {
        await c.end();
      }
    };
    try {
      await waitFor('connected', () => run.capture.status().connected);
      await change([1, 2, 3]);
      // Stop right away: some of these may not be flushed yet; the slot keeps them.
      await cluster.stopServer();
      await new Promise((r) => setTimeout(r, 300));
      expect(run.capture.status().connected).toBe(false);
      await cluster.startServer();
      await change([4, 5, 6]);
      const end = await currentLsn(url);
      await waitFor('confirmed past every change after the restart', () => confirmedAtLeast(url, config.source.slot, end), 30_000, 100);
      const pending = await pendingKeys(url);
      expect([...changed].filter((k) => !pending.has(k))).toEqual([]);
      expect(run.capture.status().reconnects).toBeGreaterThanOrEqual(1);
      await waitFor('connected again', () => run.capture.status().connected);
    } finally {
      await run.stop();
    }
  });
});
