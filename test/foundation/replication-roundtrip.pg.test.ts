import { afterAll, describe, expect, inject, it } from 'vitest';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import { freshDatabase, sql } from '../harness/db.js';

/**
 * The harness's Postgres does what the daemon needs, on every major of the matrix: a
 * publication and a pgoutput slot stream an insert to pg-logical-replication (proto v1, manual
 * acknowledgement, docs/replication.md traps 1–2), and the slot moves only when we acknowledge.
 */
describe(`logical replication round trip (PostgreSQL ${inject('pgVersion')})`, () => {
  let service: LogicalReplicationService | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('streams an insert through pgoutput and advances the slot only on acknowledge', async () => {
    const url = await freshDatabase('replication-roundtrip');
    await sql(url, 'CREATE TABLE customers (id bigint PRIMARY KEY, first_name text)');
    await sql(url, 'CREATE PUBLICATION rt_pub FOR TABLE customers');
    const [slot] = await sql<{ lsn: string }>(url, "SELECT lsn::text FROM pg_create_logical_replication_slot('rt_slot', 'pgoutput')");
    expect(slot!.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);

    service = new LogicalReplicationService({ connectionString: url }, { acknowledge: { auto: false, timeoutSeconds: 0 } });
    const seen: Array<{ tag: string; lsn: string; row?: Record<string, unknown>; commitEndLsn?: string }> = [];
    let resolveCommit!: (lsn: string) => void;
    const committed = new Promise<string>((r) => (resolveCommit = r));
    service.on('data', (lsn: string, msg: { tag: string; new?: Record<string, unknown>; commitEndLsn?: string }) => {
      seen.push({ tag: msg.tag, lsn, row: msg.new, commitEndLsn: msg.commitEndLsn });
      if (msg.tag === 'commit') resolveCommit(lsn);
    });
    const errors: Error[] = [];
    service.on('error', (e: Error) => errors.push(e));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['rt_pub'] });
    void service.subscribe(plugin, 'rt_slot', '0/0').catch((e: Error) => errors.push(e));

    await sql(url, "INSERT INTO customers VALUES (42, 'Ada')");
    const commitLsn = await withTimeout(committed, 15_000, 'no commit arrived through the slot');

    const insert = seen.find((m) => m.tag === 'insert');
    expect(insert?.row).toEqual({ id: '42', first_name: 'Ada' }); // int8 arrives as a string
    expect(seen.map((m) => m.tag)).toEqual(['begin', 'relation', 'insert', 'commit']);

    // Nothing was acknowledged yet: the slot still sits at its creation point.
    const before = await confirmed(url);
    expect(before).toBe(slot!.lsn);

    await service.acknowledge(commitLsn);
    await expect.poll(() => confirmed(url), { timeout: 10_000 }).not.toBe(before);
    expect(lsnValue((await confirmed(url))!)).toBeGreaterThanOrEqual(lsnValue(commitLsn));
    expect(errors).toEqual([]);
    await service.stop();
    service = undefined;
  });
});

async function confirmed(url: string): Promise<string | null> {
  const rows = await sql<{ lsn: string | null }>(
    url,
    "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'rt_slot'",
  );
  return rows[0]?.lsn ?? null;
}

function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))]);
}
