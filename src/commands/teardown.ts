import pg from 'pg';
import type { Config } from '../config/schema.js';
import { FatalError } from '../errors.js';
import { quoteIdent } from '../pg/names.js';
import { readSlotFacts } from '../pg/slot.js';
import { pgConfig } from '../config/pg-connection.js';

/**
 * `carecycle-sync teardown`: drops the replication slot (so it stops retaining WAL) and the
 * publication; with dropState also the state schema (queue, checkpoint, dead letters, sent
 * hashes). Refuses to drop a slot a running daemon is streaming from.
 */

export interface TeardownOptions {
  dropState: boolean;
}

/** What teardown would drop, one line each (shown when --yes is missing). */
export function teardownPlan(config: Config, opts: TeardownOptions): string[] {
  const lines = [
    `replication slot "${config.source.slot}" (changes made until the next setup are not captured)`,
    `publication "${config.source.publication}"`,
  ];
  if (opts.dropState) {
    lines.push(`state schema "${config.state.schema}" with its queue, checkpoint, dead letters and sent hashes (CASCADE)`);
  }
  return lines;
}

export interface TeardownResult {
  /** What was done or found, one line each. */
  lines: string[];
  /** Something stays that someone else must drop (the lines say what and how). */
  incomplete: boolean;
}

export async function runTeardown(config: Config, opts: TeardownOptions): Promise<TeardownResult> {
  const lines: string[] = [];
  let incomplete: boolean;
  const source = new pg.Client(pgConfig(config, 'source', { application_name: 'carecycle-sync teardown' }));
  await source.connect();
  try {
    lines.push(await dropSlot(source, config.source.slot));
    const pub = await dropPublication(source, config.source.publication);
    lines.push(pub.line);
    incomplete = !pub.dropped;
  } finally {
    await source.end().catch(() => undefined);
  }
  if (opts.dropState) lines.push(await dropState(config));
  return { lines, incomplete };
}

/**
 * Under the least-privilege role the DBA owns the publication (only a table owner may publish a
 * table): say what to run instead of stopping, so the slot and state still go.
 */
async function dropPublication(source: pg.Client, pub: string): Promise<{ line: string; dropped: boolean }> {
  const r = await source.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [pub]);
  if (!r.rowCount) return { line: `publication "${pub}": did not exist`, dropped: true };
  try {
    await source.query(`DROP PUBLICATION ${quoteIdent(pub)}`);
    return { line: `publication "${pub}": dropped`, dropped: true };
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    return {
      line: `publication "${pub}": NOT dropped, this role does not own it; its owner (the DBA) runs: DROP PUBLICATION ${quoteIdent(pub)};`,
      dropped: false,
    };
  }
}

async function dropSlot(source: pg.Client, slot: string): Promise<string> {
  const s = await readSlotFacts(source, slot);
  if (!s) return `slot "${slot}": did not exist`;
  if (s.activePid !== null) {
    throw new FatalError(
      `replication slot "${slot}" is in use by walsender PID ${s.activePid} (a running carecycle-sync?): stop it first, then run teardown again`,
    );
  }
  await source.query('SELECT pg_drop_replication_slot($1)', [slot]);
  return `slot "${slot}": dropped`;
}

async function dropState(config: Config): Promise<string> {
  const client = new pg.Client(pgConfig(config, 'state', { application_name: 'carecycle-sync teardown' }));
  await client.connect();
  try {
    const schema = config.state.schema;
    const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    return r.rowCount ? `state schema "${schema}": dropped` : `state schema "${schema}": did not exist`;
  } finally {
    await client.end().catch(() => undefined);
  }
}
