import pg from 'pg';
import type { Config } from '../config/schema.js';
import { FatalError } from '../errors.js';
import { stateUrl } from '../state/db.js';
import { quoteIdent } from './catalog.js';

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

export async function runTeardown(config: Config, opts: TeardownOptions): Promise<string[]> {
  const done: string[] = [];
  const source = new pg.Client({ connectionString: config.source.url, application_name: 'carecycle-sync teardown' });
  await source.connect();
  try {
    done.push(await dropSlot(source, config.source.slot));
    const pub = config.source.publication;
    const r = await source.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [pub]);
    await source.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(pub)}`);
    done.push(r.rowCount ? `publication "${pub}": dropped` : `publication "${pub}": did not exist`);
  } finally {
    await source.end().catch(() => undefined);
  }
  if (opts.dropState) done.push(await dropState(config));
  return done;
}

async function dropSlot(source: pg.Client, slot: string): Promise<string> {
  const { rows } = await source.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  const s = rows[0];
  if (!s) return `slot "${slot}": did not exist`;
  if (s.active_pid !== null) {
    throw new FatalError(
      `replication slot "${slot}" is in use by walsender PID ${s.active_pid} (a running carecycle-sync?): stop it first, then run teardown again`,
    );
  }
  await source.query('SELECT pg_drop_replication_slot($1)', [slot]);
  return `slot "${slot}": dropped`;
}

async function dropState(config: Config): Promise<string> {
  const client = new pg.Client({ connectionString: stateUrl(config), application_name: 'carecycle-sync teardown' });
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
