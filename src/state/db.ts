import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Config } from '../config/schema.js';
import type { StateTables } from './tables.js';
import { pgConfig } from '../config/pg-connection.js';
import { surviveLostConnections } from '../pg/pool.js';

/**
 * The state store: a pg Pool whose connections use the state schema as search_path, and a
 * Kysely instance over it. Every module that touches state tables takes a StateDb.
 */
export interface StateDb {
  readonly pool: pg.Pool;
  readonly db: Kysely<StateTables>;
  /** The schema name, unquoted (validated as a plain identifier by the config schema). */
  readonly schema: string;
  /**
   * Whether hot queries may be named prepared statements (./prepared.ts): true when the state
   * lives in the source database, a direct connection; false for a separate `state.url`, which
   * may be a transaction-mode pooler.
   */
  readonly prepared: boolean;
  close(): Promise<void>;
}

export function stateUrl(config: Config): string {
  return config.state.url ?? config.source.url;
}

export function openStateDb(config: Config, opts: { max?: number; applicationName?: string } = {}): StateDb {
  const schema = config.state.schema;
  const pool = new pg.Pool(
    pgConfig(config, 'state', {
      max: opts.max ?? 4,
      application_name: opts.applicationName ?? 'carecycle-sync',
      options: `-c search_path="${schema}",public`,
      connectionTimeoutMillis: 10_000,
    }),
  );
  // Transactions and Kysely queries hold checked-out clients: a Postgres restart must not crash.
  surviveLostConnections(pool);
  const db = new Kysely<StateTables>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    pool,
    db,
    schema,
    prepared: config.state.url === undefined,
    close: async () => {
      if (closed) return;
      closed = true;
      // Kysely adopts the pool only on its first query: a command that used raw `pool.query`
      // alone would leave idle clients that keep the process alive for idleTimeoutMillis.
      await db.destroy();
      if (!pool.ended) await pool.end();
    },
  };
}

/**
 * Runs `fn` inside one transaction on a connection of `pool`. A connection that failed
 * mid-transaction is discarded rather than returned to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}
