import { describe, it, expect, afterEach } from 'vitest';
import { sql } from '../harness/db.js';
import { startStandIn, type StandIn } from '../../src/carecycle/stand-in/index.js';
import { cli, crmWithState, demoRaw, writeConfig } from '../harness/fixtures.js';

const API_KEY = 'cc_test_wait_key_123';
let standIn: StandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

describe('backfill --wait without a daemon', () => {
  it('delivers in-process, exits when drained and prints the summary', { timeout: 180_000 }, async () => {
    const url = await crmWithState('bf-wait-cli', 250);
    await sql(url, `UPDATE customers SET phone = NULL WHERE id = 7`); // cannot be valid: dead letter, no API call
    standIn = await startStandIn({ apiKey: API_KEY, rpm: 1000 });
    const raw = demoRaw(url);
    raw.carecycle = { baseUrl: standIn.url, requestsPerMinute: 600 };
    const r = await cli(['backfill', '--wait', '-c', writeConfig(raw)], { env: { DATABASE_URL: url, CARECYCLE_API_KEY: API_KEY } });
    expect(r.stderr).not.toContain(API_KEY);
    expect(r.stdout).not.toContain(API_KEY);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('delivering in this process at 600 requests/min');
    expect(r.stdout).toMatch(/delivered\s+249\n/);
    expect(r.stdout).toMatch(/dead-lettered\s+1 /);
    expect(standIn.store.all()).toHaveLength(249);
    // Full batches: 250 keys (one dead-lettered locally) in three requests of up to 100 records.
    const sizes = standIn.requests.filter((q) => q.status === 200).map((q) => q.records);
    expect(sizes).toHaveLength(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(249);
    expect(await sql(url, 'SELECT 1 FROM carecycle_sync.pending')).toEqual([]);
    expect(await sql(url, `SELECT customer_key FROM carecycle_sync.dead_letters`)).toEqual([{ customer_key: '7' }]);
    expect(await sql(url, 'SELECT count(*)::int AS n FROM carecycle_sync.requests')).toEqual([{ n: 3 }]);
  });
});
