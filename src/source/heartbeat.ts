import type pg from 'pg';

/**
 * The heartbeat: a transactional logical message written into the WAL on an interval. It comes
 * back through our own stream, which proves the stream is alive end to end (readiness), and its
 * commit gives the slot a position to confirm even when the watched tables are idle while others
 * are busy (docs/architecture.md, "Durability order"). Transactional, so it is decoded in commit
 * order like a change.
 */
export const HEARTBEAT_PREFIX = 'carecycle_sync';

export async function emitHeartbeat(client: pg.ClientBase, slot: string): Promise<void> {
  const content = JSON.stringify({ slot, at: new Date().toISOString() });
  await client.query('SELECT pg_logical_emit_message(true, $1, $2)', [HEARTBEAT_PREFIX, content]);
}

/** Ours if it names our slot: several daemons (one per slot) may share a database. */
export function isOwnHeartbeat(content: Uint8Array, slot: string): boolean {
  try {
    const parsed = JSON.parse(Buffer.from(content).toString('utf8')) as { slot?: unknown };
    return parsed.slot === slot;
  } catch {
    return false;
  }
}
