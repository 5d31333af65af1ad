/**
 * An idle capture writes nothing. With the state in the source database every checkpoint write
 * makes WAL, and the walsender answers with a keepalive past it; persisting each keepalive
 * position within seconds made an idle daemon write its checkpoint row every few seconds forever.
 */
import { describe, expect, it } from 'vitest';
import { sql } from '../harness/db.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { setupFor, startCapture, waitFor } from './helpers.js';

describe('idle capture', { timeout: 60_000 }, () => {
  it('does not rewrite its checkpoint while nothing happens (no heartbeat due)', async () => {
    const url = await crmDatabase('capture-idle');
    const config = await setupFor(demoConfig(url));
    config.source.heartbeatSeconds = 3600;
    const run = startCapture(config);
    try {
      await waitFor('stream connected', () => run.capture.status().connected);
      await sql(url, `INSERT INTO customers (id, first_name) VALUES (1, 'a')`);
      await waitFor('the change queued', async () => (await sql(url, `SELECT 1 FROM carecycle_sync.pending`)).length === 1);
      // Let the keepalives after that flush come and go.
      await new Promise((r) => setTimeout(r, 1500));
      const writes = async () =>
        (
          await sql<{ t: string }>(url, `SELECT updated_at::text AS t FROM carecycle_sync.checkpoint WHERE slot = $1`, [config.source.slot])
        )[0]?.t;
      const before = await writes();
      const flushes = run.capture.status().flushes;
      await new Promise((r) => setTimeout(r, 4000));
      expect(await writes()).toBe(before);
      expect(run.capture.status().flushes).toBe(flushes);
      expect(run.capture.status().connected).toBe(true);
    } finally {
      await run.stop();
    }
  });
});
