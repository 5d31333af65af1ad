import { describe, it, expect, afterAll } from 'vitest';
import pg from 'pg';
import { freshDatabase, sql } from '../harness/db.js';
import { migrate } from '../../src/state/migrate.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { stateCollector } from '../../src/observe/metrics-collector.js';
import { parsePromText, sampleValue } from './prom-text.js';

const pools: pg.Pool[] = [];
afterAll(async () => {
  for (const p of pools) await p.end();
});

describe('stateCollector', () => {
  it('refreshes queue, dead letters, backfill and slot gauges from the databases on scrape', async () => {
    const url = await freshDatabase('metrics-collector');
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await migrate(c, 'ccs_state');
    await c.end();
    await sql(
      url,
      `INSERT INTO ccs_state.pending (customer_key, priority, first_enqueued_at) VALUES
      ('1', 0, now() - interval '90 seconds'), ('2', 0, now()), ('3', 1, now()), ('4', 1, now()), ('5', 1, now())`,
    );
    await sql(url, `INSERT INTO ccs_state.dead_letters (customer_key, reason) VALUES ('9', 'phoneNumber: required')`);
    await sql(url, `INSERT INTO ccs_state.backfill (enqueued, total) VALUES (10, 20), (300, 1000)`);
    await sql(url, `SELECT pg_create_logical_replication_slot('ccs_metrics_slot', 'pgoutput')`);
    // pg_current_wal_lsn() is the WAL *written*; the test server commits asynchronously.
    await sql(url, `SET synchronous_commit = on; CREATE TABLE t (x int); INSERT INTO t SELECT generate_series(1, 1000)`);

    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(pool);
    const m = createMetrics({ defaultMetrics: false });
    m.setCollector(stateCollector({ state: pool, schema: 'ccs_state', source: pool, slot: 'ccs_metrics_slot' }));
    try {
      let f = parsePromText(await m.render());
      expect(sampleValue(f, 'carecycle_sync_queue_depth', { priority: 'live' })).toBe(2);
      expect(sampleValue(f, 'carecycle_sync_queue_depth', { priority: 'backfill' })).toBe(3);
      expect(sampleValue(f, 'carecycle_sync_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(89);
      expect(sampleValue(f, 'carecycle_sync_dead_letters')).toBe(1);
      expect(sampleValue(f, 'carecycle_sync_backfill_enqueued')).toBe(300);
      expect(sampleValue(f, 'carecycle_sync_backfill_total')).toBe(1000);
      expect(sampleValue(f, 'carecycle_sync_slot_lag_bytes')).toBeGreaterThan(0);
      expect(sampleValue(f, 'carecycle_sync_slot_retained_wal_bytes')).toBeGreaterThan(0);

      await sql(url, `DELETE FROM ccs_state.pending; DELETE FROM ccs_state.dead_letters`);
      f = parsePromText(await m.render());
      expect(sampleValue(f, 'carecycle_sync_queue_depth', { priority: 'live' })).toBe(0);
      expect(sampleValue(f, 'carecycle_sync_oldest_pending_age_seconds')).toBe(0);
      expect(sampleValue(f, 'carecycle_sync_dead_letters')).toBe(0);
      expect(sampleValue(f, 'carecycle_sync_collect_errors_total')).toBe(0);
    } finally {
      await sql(url, `SELECT pg_drop_replication_slot('ccs_metrics_slot')`);
    }
  });
});
