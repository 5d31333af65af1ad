/**
 * A lost slot heals itself (source.onSlotLost: recreate): a new slot is created, and every
 * customer is reconciled. The slot comes first, so every change from then on is streamed; then
 * the state records what happened, in one transaction: the checkpoint moves to the new slot's
 * start, the initial backfill is requested again (every current customer is re-assembled and
 * sent only if its record differs from the last send), and every customer ever sent is queued
 * (a customer or policy deleted during the gap is found missing and gets the delete rules).
 */
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { inTransaction, type StateDb } from '../state/db.js';
import { getRuntime, INITIAL_BACKFILL_DOC } from '../state/runtime.js';
import { requeueEverySent } from '../queue/requeue.js';

export const SLOT_RECREATIONS_DOC = 'slot_recreations';

export interface SlotRecreations {
  recreations: number;
  /** ISO times of the recreations of the last hour (the budget). */
  recent: string[];
  lastRecreatedAt: string | null;
  lastLostReason: string | null;
}

export async function readRecreations(state: StateDb): Promise<SlotRecreations> {
  const doc = (await getRuntime<SlotRecreations>(state, SLOT_RECREATIONS_DOC))?.value;
  return {
    recreations: doc?.recreations ?? 0,
    recent: doc?.recent ?? [],
    lastRecreatedAt: doc?.lastRecreatedAt ?? null,
    lastLostReason: doc?.lastLostReason ?? null,
  };
}

/** Drops what is left of the old slot, creates a new one and records the reconcile; returns the new slot's LSN. */
export async function recreateSlot(
  source: pg.ClientBase,
  state: StateDb,
  config: Config,
  reason: string,
  now = new Date(),
): Promise<string> {
  const slot = config.source.slot;
  await source.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  const created = await source.query<{ lsn: string }>(`SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [
    slot,
  ]);
  const lsn = created.rows[0]!.lsn;
  const before = await readRecreations(state);
  const at = now.toISOString();
  const doc: SlotRecreations = {
    recreations: before.recreations + 1,
    recent: [...before.recent.filter((t) => Date.parse(t) > now.getTime() - 3600_000), at],
    lastRecreatedAt: at,
    lastLostReason: reason,
  };
  try {
    await inTransaction(state.pool, async (client) => {
      await client.query(
        `INSERT INTO checkpoint (slot, lsn) VALUES ($1, $2::pg_lsn) ON CONFLICT (slot) DO UPDATE SET lsn = EXCLUDED.lsn, updated_at = now()`,
        [slot, lsn],
      );
      const upsertDoc = `INSERT INTO runtime (name, value) VALUES ($1, $2::jsonb) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
      await client.query(upsertDoc, [
        INITIAL_BACKFILL_DOC,
        JSON.stringify({ slot, slotLsn: lsn, createdAt: at, status: 'requested', reason: 'slot recreated' }),
      ]);
      await client.query(upsertDoc, [SLOT_RECREATIONS_DOC, JSON.stringify(doc)]);
      await requeueEverySent(client, 'change');
    });
  } catch (err) {
    // Without the record, the next start would stream from the new slot and never reconcile.
    await source.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    throw new Error(`slot "${slot}" recreated but recording the reconcile failed; dropped it again to retry: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return lsn;
}
