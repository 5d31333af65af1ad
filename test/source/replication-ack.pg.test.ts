import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { sql } from '../harness/db.js';
import { openReplicationStream, type ReplicationMessage } from '../../src/source/replication.js';
import { parseLsn } from '../../src/source/lsn.js';
import { crmDatabase, demoConfig } from './fixtures.js';
import { confirmedLsn, setupFor, waitFor } from './helpers.js';

interface Txn {
  commitLsn: string;
  commitEnd: string;
  ids: string[];
}

/** Streams from `from` until `count` transactions arrived; confirms `confirm(txns)` if given, then stops. */
async function readTxns(
  o: { url: string; slot: string; publication: string },
  from: bigint,
  count: number,
  confirm?: (t: Txn[]) => bigint,
): Promise<Txn[]> {
  const txns: Txn[] = [];
  let ids: string[] = [];
  let done!: () => void;
  const got = new Promise<void>((r) => (done = r));
  const stream = openReplicationStream(
    { ...o, connection: { connectionString: o.url } },
    {
      onMessage(m: ReplicationMessage) {
        if (m.tag === 'update') ids.push(String((m.new as Record<string, unknown>).id));
        if (m.tag === 'commit') {
          txns.push({ commitLsn: m.commitLsn!, commitEnd: m.commitEndLsn!, ids });
          ids = [];
          if (txns.length === count) done();
        }
      },
      onKeepalive: () => undefined,
    },
  );
  const running = stream.run(from).catch(() => undefined);
  await Promise.race([
    got,
    new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${txns.length} of ${count} transactions arrived`)), 15_000)),
  ]);
  if (confirm) await stream.confirm(confirm(txns));
  await stream.stop();
  await running;
  return txns;
}

describe('confirming a position through the replication library', { timeout: 120_000 }, () => {
  it('reports the commit end exactly, so a transaction whose commit starts there is replayed after a restart', async () => {
    const url = await crmDatabase('replication-ack');
    await sql(url, `INSERT INTO customers (id) SELECT g FROM generate_series(1, 2) g`);
    const config = await setupFor(demoConfig(url));
    const o = { url, slot: config.source.slot, publication: config.source.publication };
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await Promise.all([a.connect(), b.connect()]);
    let adjacent = 0;
    try {
      // Two sessions commit back to back: B's commit record usually starts exactly where A's
      // ends. Other tests write WAL on the same server, so try until that happens.
      for (let attempt = 0; attempt < 25 && adjacent === 0; attempt++) {
        await a.query('BEGIN');
        await a.query(`UPDATE customers SET notes = $1 WHERE id = 1`, [`a${attempt}`]);
        await b.query('BEGIN');
        await b.query(`UPDATE customers SET notes = $1 WHERE id = 2`, [`b${attempt}`]);
        await a.query('COMMIT');
        await b.query('COMMIT');
        const from = parseLsn(await confirmedLsn(url, o.slot));
        // Confirm the first transaction only, as capture does when only its keys are durable.
        const [t1, t2] = await readTxns(o, from, 2, (t) => parseLsn(t[0]!.commitEnd));
        expect(t1!.ids).toEqual(['1']);
        expect(t2!.ids).toEqual(['2']);
        await waitFor(
          'the walsender to let go of the slot',
          async () =>
            (await sql(url, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NULL', [o.slot])).length === 1,
        );
        // What Postgres believes is exactly the end of the first commit.
        expect(parseLsn(await confirmedLsn(url, o.slot))).toBe(parseLsn(t1!.commitEnd));
        if (parseLsn(t2!.commitLsn) === parseLsn(t1!.commitEnd)) adjacent++;
        // After the restart the second transaction comes again (and is confirmed for the next round).
        const [again] = await readTxns(o, parseLsn(t1!.commitEnd), 1, (t) => parseLsn(t[0]!.commitEnd));
        expect(again!.ids).toEqual(['2']);
        expect(again!.commitEnd).toBe(t2!.commitEnd);
        await waitFor(
          'the walsender to let go of the slot',
          async () =>
            (await sql(url, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NULL', [o.slot])).length === 1,
        );
      }
      expect(adjacent, 'two back-to-back commits never had adjacent commit records in 25 tries').toBe(1);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });
});
