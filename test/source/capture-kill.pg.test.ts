import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { sql } from '../harness/db.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { confirmedAtLeast, currentLsn, pendingKeys, setupFor, spawnCapture } from './helpers.js';

/**
 * (b) The durability order, proven with SIGKILL: rounds of killing the capture process at random
 * moments while a writer commits changes; after a restart every changed customer is in pending.
 * CAPTURE_KILL_ROUNDS=20 for the full run (default 4 keeps `npm test` fast).
 */
const ROUNDS = Number(process.env.CAPTURE_KILL_ROUNDS ?? 4);
// A key space large enough that the writer touches only part of it, so a lost key would show.
const CUSTOMERS = Math.max(20_000, ROUNDS * 5_000);

describe('capture survives SIGKILL', { timeout: 60_000 + ROUNDS * 10_000 }, () => {
  it(`loses no change over ${ROUNDS} rounds of kill -9`, async () => {
    const url = await crmDatabase('capture-kill');
    // Seeded before the slot exists, so the seed itself is not captured: pending starts empty.
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, ${CUSTOMERS}) g`);
    await sql(url, `INSERT INTO policies (customer_id) SELECT 1 + (g % ${CUSTOMERS}) FROM generate_series(1, ${CUSTOMERS * 2}) g`);
    const config = await setupFor(demoConfig(url));
    // Small flushes, so kills land between flushes, mid-transaction and mid-commit.
    config.sync.flushMaxKeys = 100;

    const changed = new Set<string>();
    let writing = true;
    let transactions = 0;
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    const writes = (async () => {
      while (writing) {
        const ids = Array.from({ length: 1 + Math.floor(Math.random() * 40) }, () => 1 + Math.floor(Math.random() * CUSTOMERS));
        if (Math.random() < 0.5) {
          await writer.query('UPDATE customers SET notes = md5(random()::text) WHERE id = $1', [ids[0]]);
          changed.add(String(ids[0]));
        } else {
          // One transaction over many policies (and so many customers).
          await writer.query('UPDATE policies SET premium = coalesce(premium, 0) + 1 WHERE customer_id = ANY($1::bigint[])', [ids]);
          for (const id of ids) changed.add(String(id));
        }
        transactions++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    try {
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = Date.now();
        const child = spawnCapture(config);
        await child.saw('connected');
        if (process.env.CAPTURE_KILL_DEBUG) console.log(`round ${round}: connected after ${Date.now() - t0} ms`);
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 700));
        await child.kill('SIGKILL');
      }
      writing = false;
      await writes;
      const end = await currentLsn(url);
      const t1 = Date.now();
      const last = spawnCapture(config);
      try {
        await last.saw('connected');
        const deadline = Date.now() + 30_000;
        while (!(await confirmedAtLeast(url, config.source.slot, end))) {
          if (Date.now() > deadline) throw new Error(`the restarted capture did not catch up within 30 s (${transactions} transactions)`);
          await new Promise((r) => setTimeout(r, 50));
        }
        if (process.env.CAPTURE_KILL_DEBUG) console.log(`caught up after ${Date.now() - t1} ms`);
      } finally {
        await last.kill('SIGTERM');
      }
      const pending = await pendingKeys(url);
      const lost = [...changed].filter((k) => !pending.has(k));
      const spurious = [...pending].filter((k) => !changed.has(k));
      console.log(`[capture-kill] ${ROUNDS} kills, ${transactions} transactions, ${changed.size} customers changed, ${lost.length} lost`);
      expect(changed.size).toBeGreaterThan(ROUNDS * 10);
      expect(lost).toEqual([]);
      expect(spurious).toEqual([]);
    } finally {
      writing = false;
      await writes.catch(() => undefined);
      await writer.end();
    }
  });
});
