import { describe, it, expect, afterEach } from 'vitest';
import pg from 'pg';
import { freshDatabase, sql } from '../harness/db.js';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { UsageError } from '../../src/errors.js';
import {
  ensureInitialBackfill,
  resumeOrStartBackfill,
  runBackfill,
  startBackfill,
  waitForDrain,
  getRun,
} from '../../src/backfill/index.js';
import { crmWithState, demoConfig, migrateState, seedCrm } from '../harness/fixtures.js';

const open: Array<{ end(): Promise<void> } | StateDb> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await ('close' in o ? o.close() : o.end());
});

function connect(url: string, stateUrl?: string) {
  const config = demoConfig(url, stateUrl);
  const state = openStateDb(config);
  const crm = new pg.Pool({ connectionString: url, max: 2 });
  open.push(state, crm);
  return { config, state, crm };
}

async function pendingRows(url: string) {
  return sql<{ customer_key: string; priority: number; version: string }>(
    url,
    'SELECT customer_key, priority, version FROM carecycle_sync.pending ORDER BY customer_key::bigint',
  );
}

describe('backfill', () => {
  it('enqueues every customer matching customers.where and --where, paging numerically across 9→10', async () => {
    const url = await crmWithState('bf-where', 50);
    await sql(url, 'UPDATE customers SET deleted_at = now() WHERE id % 5 = 0'); // outside customers.where
    const { config, state, crm } = connect(url);

    const run = await startBackfill(state, crm, config);
    expect(run.total).toBe(40);
    const res = await runBackfill(state, crm, config, run, { chunkSize: 7 });
    expect(res.aborted).toBe(false);
    expect(res.run.finishedAt).not.toBeNull();
    expect(res.run.enqueued).toBe(40);
    expect(res.run.cursor).toBe('49');
    const rows = await pendingRows(url);
    expect(rows.map((r) => Number(r.customer_key))).toEqual([...Array(50).keys()].map((i) => i + 1).filter((i) => i % 5 !== 0));
    expect(new Set(rows.map((r) => r.priority))).toEqual(new Set([1]));

    await sql(url, 'DELETE FROM carecycle_sync.pending');
    const { run: scoped } = await resumeOrStartBackfill(state, crm, config, { where: 'id > 30' });
    const done = await runBackfill(state, crm, config, scoped, { chunkSize: 4 });
    expect(done.run.where).toBe('id > 30');
    expect((await pendingRows(url)).map((r) => Number(r.customer_key))).toEqual([
      31, 32, 33, 34, 36, 37, 38, 39, 41, 42, 43, 44, 46, 47, 48, 49,
    ]);
  });

  it('rejects a --where that is not a valid predicate as a usage error, before creating a run', async () => {
    const url = await crmWithState('bf-badwhere', 3);
    const { config, state, crm } = connect(url);
    await expect(startBackfill(state, crm, config, { where: 'no_such_column = 1' })).rejects.toBeInstanceOf(UsageError);
    expect(await sql(url, 'SELECT * FROM carecycle_sync.backfill')).toHaveLength(0);
  });

  it('never downgrades a live key: a key pending at priority 0 keeps its priority and version', async () => {
    const url = await crmWithState('bf-priority', 20);
    await sql(url, `INSERT INTO carecycle_sync.pending (customer_key, priority, version) VALUES ('5', 0, 3), ('12', 1, 2)`);
    const { config, state, crm } = connect(url);
    const run = await startBackfill(state, crm, config);
    await runBackfill(state, crm, config, run, { chunkSize: 6 });
    const rows = await pendingRows(url);
    expect(rows).toHaveLength(20);
    expect(rows.find((r) => r.customer_key === '5')).toMatchObject({ priority: 0, version: '3' });
    expect(rows.find((r) => r.customer_key === '12')).toMatchObject({ priority: 1, version: '2' });
    expect(rows.filter((r) => r.priority === 0).map((r) => r.customer_key)).toEqual(['5']);
  });

  it('resumes an interrupted run (state in another database) with every key enqueued exactly once', async () => {
    const crmUrl = await freshDatabase('bf-two-crm');
    await seedCrm(crmUrl, 300);
    const stateUrl = await freshDatabase('bf-two-state');
    await migrateState(stateUrl);
    const { config, state, crm } = connect(crmUrl, stateUrl);

    const abort = new AbortController();
    const first = await resumeOrStartBackfill(state, crm, config);
    expect(first.resumed).toBe(false);
    let chunks = 0;
    const cut = await runBackfill(state, crm, config, first.run, {
      chunkSize: 25,
      signal: abort.signal,
      onProgress: () => ++chunks === 3 && abort.abort(),
    });
    expect(cut.aborted).toBe(true);
    const persisted = (await getRun(state, cut.run.runId))!;
    expect(persisted.finishedAt).toBeNull();
    expect(persisted.enqueued).toBe(75);
    expect(persisted.cursor).toBe('75');
    expect(await sql(stateUrl, 'SELECT 1 FROM carecycle_sync.pending')).toHaveLength(75);

    const again = await resumeOrStartBackfill(state, crm, config);
    expect(again).toMatchObject({ resumed: true, run: { runId: cut.run.runId } });
    await expect(resumeOrStartBackfill(state, crm, config, { where: 'id < 10' })).rejects.toBeInstanceOf(UsageError);
    const done = await runBackfill(state, crm, config, again.run, { chunkSize: 25 });
    expect(done.run.enqueued).toBe(300);
    expect(done.run.total).toBe(300);
    const keys = await sql<{ n: string; d: string }>(
      stateUrl,
      'SELECT count(*) AS n, count(DISTINCT customer_key) AS d FROM carecycle_sync.pending',
    );
    expect(keys[0]).toEqual({ n: '300', d: '300' });
    expect(await sql(stateUrl, 'SELECT 1 FROM carecycle_sync.backfill')).toHaveLength(1);
  });

  it('runs the initial backfill that setup requested, once', async () => {
    const url = await crmWithState('bf-initial', 30);
    await sql(
      url,
      `INSERT INTO carecycle_sync.runtime (name, value) VALUES ('initial_backfill', '{"slot":"carecycle_sync","status":"requested"}')`,
    );
    const { config, state, crm } = connect(url);
    const res = await ensureInitialBackfill(state, crm, config, { chunkSize: 8 });
    expect(res?.run.enqueued).toBe(30);
    const doc = await sql<{ value: { status: string; runId: string; slot: string } }>(
      url,
      `SELECT value FROM carecycle_sync.runtime WHERE name = 'initial_backfill'`,
    );
    expect(doc[0]!.value).toMatchObject({ status: 'started', runId: res!.run.runId, slot: 'carecycle_sync' });
    expect(await ensureInitialBackfill(state, crm, config)).toBeNull();
    expect(await sql(url, 'SELECT 1 FROM carecycle_sync.backfill')).toHaveLength(1);
  });

  it('--wait logic: drains when no backfill key is left, and summarises from the state tables', async () => {
    const url = await crmWithState('bf-wait', 10);
    const { config, state, crm } = connect(url);
    const run = await startBackfill(state, crm, config);
    await runBackfill(state, crm, config, run);
    const polls: number[] = [];
    // Stand in for the delivery loop: 6 sent, 1 dead-lettered, 3 skipped as unchanged.
    const deliver = setTimeout(() => {
      void sql(
        url,
        `BEGIN;
        INSERT INTO carecycle_sync.sent (customer_key, payload_hash) SELECT g::text, 'h' FROM generate_series(1, 6) g;
        INSERT INTO carecycle_sync.dead_letters (customer_key, reason) VALUES ('7', 'phoneNumber: required');
        DELETE FROM carecycle_sync.pending; COMMIT;`,
      );
    }, 300);
    const summary = await waitForDrain(state, run.runId, { pollMs: 50, onPoll: (s) => polls.push(s.pending) });
    clearTimeout(deliver);
    expect(polls[0]).toBe(10);
    expect(polls.at(-1)).toBe(0);
    expect(summary).toMatchObject({ delivered: 6, deadLettered: 1, skippedUnchanged: 3 });
  });
});
