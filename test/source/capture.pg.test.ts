import { describe, it, expect } from 'vitest';
import { sql } from '../harness/db.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { confirmedAtLeast, currentLsn, pendingKeys, setupFor, startCapture, waitFor } from './helpers.js';

describe('capture maps changes to customer keys', { timeout: 60_000 }, () => {
  it('inserts, updates, deletes, moves, watch rows, schema changes and truncates', async () => {
    const url = await crmDatabase('capture-map');
    const config = await setupFor(demoConfig(url));
    const slot = config.source.slot;
    let flushedKeys = 0;
    const run = startCapture(config, { onFlushed: (n) => (flushedKeys += n) });
    try {
      await waitFor('stream connected', () => run.capture.status().connected);
      await sql(url, `INSERT INTO customers (id, first_name) VALUES (1, 'a'), (2, 'b'), (9007199254740993, 'big')`);
      await sql(url, `INSERT INTO policies (id, customer_id) VALUES (10, 1), (11, 2)`);
      let lsn = await currentLsn(url);
      await waitFor('first changes confirmed', () => confirmedAtLeast(url, slot, lsn));
      expect(await pendingKeys(url)).toEqual(new Set(['1', '2', '9007199254740993']));
      expect(flushedKeys).toBeGreaterThanOrEqual(3);

      // What delivery would have recorded: policy 10 last sent under customer 1, 11 under 2.
      await sql(
        url,
        `INSERT INTO carecycle_sync.sent_policies (policy_key, customer_key, identifiers) VALUES ('10', '1', '{}'), ('11', '2', '{}')`,
      );
      await sql(url, 'DELETE FROM carecycle_sync.pending');
      // Policy 10 moves from customer 1 to 3 (REPLICA IDENTITY DEFAULT: no old image), 11 is deleted
      // (key image only), a phone row of customer 4 is inserted.
      await sql(url, 'UPDATE policies SET customer_id = 3 WHERE id = 10');
      await sql(url, 'DELETE FROM policies WHERE id = 11');
      await sql(url, `INSERT INTO customer_phones (customer_id, phone) VALUES (4, '555')`);
      lsn = await currentLsn(url);
      await waitFor('move/delete confirmed', () => confirmedAtLeast(url, slot, lsn));
      expect(await pendingKeys(url)).toEqual(new Set(['1', '2', '3', '4']));

      // A column added and one renamed: new Relation messages, no restart.
      await sql(url, 'DELETE FROM carecycle_sync.pending');
      await sql(url, 'ALTER TABLE customers ADD COLUMN nickname text; ALTER TABLE customers RENAME COLUMN notes TO remarks');
      await sql(url, `UPDATE customers SET nickname = 'x', remarks = 'y' WHERE id = 2`);
      await sql(url, 'DELETE FROM customers WHERE id = 9007199254740993');
      lsn = await currentLsn(url);
      await waitFor('post-ALTER changes confirmed', () => confirmedAtLeast(url, slot, lsn));
      expect(await pendingKeys(url)).toEqual(new Set(['2', '9007199254740993']));

      // TRUNCATE policies: every customer with a sent policy is re-sent.
      await sql(url, 'DELETE FROM carecycle_sync.pending');
      await sql(url, 'TRUNCATE policies');
      lsn = await currentLsn(url);
      await waitFor('truncate confirmed', () => confirmedAtLeast(url, slot, lsn));
      expect(await pendingKeys(url)).toEqual(new Set(['1', '2']));

      const st = run.capture.status();
      expect(st.isStandby).toBe(false);
      expect(st.lastError).toBeNull();
      await waitFor('heartbeat seen', () => run.capture.status().lastHeartbeatAt !== null, 5000);
    } finally {
      await run.stop();
    }
  });
});
