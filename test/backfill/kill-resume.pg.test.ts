import { describe, it, expect } from 'vitest';
import { sql } from '../harness/db.js';
import { cli, crmWithState, demoRaw, writeConfig } from '../harness/fixtures.js';

const CUSTOMERS = 10_000;

interface RunRow {
  enqueued: string;
  cursor: string | null;
  finished_at: Date | null;
  total: string;
}
const runRow = async (url: string) =>
  (await sql<RunRow>(url, 'SELECT enqueued, cursor, finished_at, total FROM carecycle_sync.backfill'))[0];

describe('backfill killed with SIGKILL', () => {
  // Two CLI processes (node + tsx): seconds each on a loaded machine.
  it('resumes at the persisted cursor: every key enqueued exactly once', { timeout: 180_000 }, async () => {
    const url = await crmWithState('bf-kill', CUSTOMERS);
    const config = writeConfig(demoRaw(url));
    const env = { DATABASE_URL: url };

    let kill: () => void = () => undefined;
    const first = cli(['backfill', '--chunk-size', '10', '-c', config], { env, onSpawn: (k) => (kill = k) });
    let exited = false;
    void first.then(() => (exited = true));
    // Kill as soon as some chunks are committed, mid-run.
    for (;;) {
      const row = await runRow(url);
      if (row && Number(row.enqueued) >= 200) break;
      if (exited) throw new Error(`backfill exited before it could be killed: ${JSON.stringify(await first)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    kill();
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');

    const cut = (await runRow(url))!;
    expect(cut.finished_at).toBeNull();
    const enqueuedAtKill = Number(cut.enqueued);
    expect(enqueuedAtKill).toBeLessThan(CUSTOMERS);
    // The cursor and the count moved in the same transaction as the keys: nothing more, nothing less.
    const pend = await sql<{ n: string; max: string }>(
      url,
      'SELECT count(*) AS n, max(customer_key::bigint)::text AS max FROM carecycle_sync.pending',
    );
    expect(Number(pend[0]!.n)).toBe(enqueuedAtKill);
    expect(pend[0]!.max).toBe(cut.cursor);

    const second = await cli(['backfill', '--chunk-size', '500', '-c', config], { env });
    expect(second.code).toBe(0);
    // Not a terminal: progress comes as log lines on stderr, with the delivery ETA from the rate limit.
    expect(second.stderr).toMatch(
      /^backfill: enqueued 10,000\/10,000 \(100%\) \| [\d,]+ keys\/s \| enqueue ETA 0s \| delivery ETA 1m 40s at 60 req\/min$/m,
    );
    expect(second.stdout).toContain(
      `Resuming unfinished backfill run 1: ${enqueuedAtKill.toLocaleString('en-US')} of 10,000 keys already enqueued`,
    );
    expect(second.stdout).toContain('Enqueued 10,000 keys (run 1)');

    const done = (await runRow(url))!;
    expect(done.finished_at).not.toBeNull();
    expect(Number(done.enqueued)).toBe(CUSTOMERS);
    const all = await sql<{ n: string; d: string; lo: string; hi: string }>(
      url,
      'SELECT count(*) AS n, count(DISTINCT customer_key) AS d, min(customer_key::bigint) AS lo, max(customer_key::bigint) AS hi FROM carecycle_sync.pending',
    );
    expect(all[0]).toEqual({ n: '10000', d: '10000', lo: '1', hi: '10000' });
  });
});
