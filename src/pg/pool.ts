import pg from 'pg';
import type { Config } from '../config/schema.js';
import { pgConfig } from '../config/pg-connection.js';

/**
 * A pool that survives a Postgres restart or a terminated backend: the failure reaches whoever
 * runs a query on it, never the process as an unhandled 'error' event.
 *
 * Two listeners are needed. An idle client that loses its connection emits 'error' on the pool;
 * a checked-out client (a transaction, the mapping check's savepoints) emits it on itself, where
 * the pool does not listen. The query in flight still rejects, and the pool drops the broken
 * client on release.
 */
export function surviveLostConnections(pool: pg.Pool): pg.Pool {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** A pool on the source (CRM) database, connection settings and TLS from the config. */
export function openSourcePool(config: Config, extra: { max: number; application_name: string; options?: string }): pg.Pool {
  return surviveLostConnections(new pg.Pool(pgConfig(config, 'source', extra)));
}
