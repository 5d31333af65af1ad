import { describe, it, expect } from 'vitest';
import { freshDatabase, sql } from '../harness/db.js';
import { cli, demoRaw, migrateState, writeConfig } from '../harness/fixtures.js';

async function setupWithDeadLetters() {
  const url = await freshDatabase('dead-letters');
  await migrateState(url);
  await sql(
    url,
    `SET search_path TO carecycle_sync;
    INSERT INTO dead_letters (customer_key, reason, field_path, http_status, attempts, last_failed_at) VALUES
      ('1', 'must be a valid US phone number', 'phoneNumber', NULL, 1, now() - interval '3 minutes'),
      ('2', 'Invalid date', 'policies[0].effectiveDate', 422, 2, now() - interval '2 minutes'),
      ('3', 'duplicate policy', 'policies[1]', 400, 1, now() - interval '1 minute');
    INSERT INTO pending (customer_key, priority, version, attempts, last_error) VALUES ('1', 1, 4, 3, 'old');`,
  );
  return { url, config: writeConfig(demoRaw(url)), env: { DATABASE_URL: url } };
}

describe('dead-letters', () => {
  // Each CLI run is a fresh node + tsx process: seconds on a loaded machine.
  it('lists, retries (back to pending at live priority) and discards through the CLI', { timeout: 240_000 }, async () => {
    const { url, config, env } = await setupWithDeadLetters();

    const listed = await cli(['dead-letters', 'list', '--json', '-c', config], { env });
    expect(listed.code).toBe(0);
    const l = JSON.parse(listed.stdout);
    expect(l.total).toBe(3);
    expect(l.items.map((d: { key: string }) => d.key)).toEqual(['3', '2', '1']);
    expect(l.items[1]).toMatchObject({
      key: '2',
      reason: 'Invalid date',
      fieldPath: 'policies[0].effectiveDate',
      httpStatus: 422,
      attempts: 2,
    });

    const table = await cli(['dead-letters', 'list', '-c', config], { env });
    expect(table.stdout).toMatch(/^KEY\s+FIELD\s+HTTP\s+ATTEMPTS\s+LAST FAILED\s+REASON/m);
    expect(table.stdout).toMatch(/^2\s+policies\[0\]\.effectiveDate\s+422\s+2\s+2m \d+s ago\s+Invalid date/m);

    const retried = await cli(['dead-letters', 'retry', '1', '2', '9', '-c', config], { env });
    expect(retried.code).toBe(1);
    expect(retried.stdout).toContain('Re-queued 2 dead letters: 1, 2');
    expect(retried.stderr).toContain('no dead letter for key: 9');
    const pending = await sql(
      url,
      'SELECT customer_key, priority, version, attempts, last_error FROM carecycle_sync.pending ORDER BY customer_key',
    );
    expect(pending).toEqual([
      { customer_key: '1', priority: 0, version: '5', attempts: 0, last_error: null },
      { customer_key: '2', priority: 0, version: '1', attempts: 0, last_error: null },
    ]);

    const usage = await cli(['dead-letters', 'discard', '-c', config], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give the customer keys to act on, or --all');

    const discarded = await cli(['dead-letters', 'discard', '--all', '-c', config], { env });
    expect(discarded.code).toBe(0);
    expect(discarded.stdout).toContain('Discarded 1 dead letter: 3');
    expect(await sql(url, 'SELECT * FROM carecycle_sync.dead_letters')).toEqual([]);
    expect(await sql(url, `SELECT 1 FROM carecycle_sync.pending WHERE customer_key = '3'`)).toEqual([]);
  });

  it('exits 1 with "not set up" when the state schema is missing', { timeout: 120_000 }, async () => {
    const url = await freshDatabase('dead-letters-missing');
    const r = await cli(['dead-letters', 'list', '-c', writeConfig(demoRaw(url))], { env: { DATABASE_URL: url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not set up: run carecycle-sync setup');
  });
});
