import pg from 'pg';
import type { Config } from '../config/schema.js';
import { ConfigError, FatalError } from '../errors.js';
import { migrate, migrationScript } from '../state/migrate.js';
import { INITIAL_BACKFILL_DOC } from '../state/runtime.js';
import { checkCaptureConfig, formatProblem, readCatalog, watchedTables, type CaptureProblem } from '../pg/catalog.js';
import { quoteIdent, quotedTable, qualifiedName } from '../pg/names.js';
import { pgConfig } from '../config/pg-connection.js';
import { foreignSlotFix, readSlotFacts, RESET_SLOT, slotHealth, slotProblem } from '../pg/slot.js';
import { requeueEverySent } from '../queue/requeue.js';

/**
 * `carecycle-sync setup`: checks the config against the catalog, applies the state migrations,
 * creates (or corrects) the publication, then creates the slot — in that order, because a slot
 * created before its publication cannot decode the WAL in between ("publication does not exist").
 * Idempotent, and safe when two instances run it at once (a session advisory lock serialises them).
 *
 * A NEW slot is recorded in the state table `runtime` as
 *   name = 'initial_backfill', value = {slot, slotLsn, createdAt, status: 'requested'}
 * so that the first `run` backfills every customer: the slot only streams changes made after
 * its creation. Whoever starts that backfill sets status to 'started'.
 */

const PUBLISH = 'insert, update, delete, truncate';

export interface SetupResult {
  /** What was done or found, one line each, for the operator. */
  actions: string[];
  warnings: CaptureProblem[];
  slotCreated: boolean;
}

export interface SetupOptions {
  /** Config file path, named in error messages. */
  configPath?: string;
}

export async function runSetup(config: Config, opts: SetupOptions = {}): Promise<SetupResult> {
  const source = new pg.Client(pgConfig(config, 'source', { application_name: 'carecycle-sync setup' }));
  await source.connect();
  try {
    const warnings = await checkSource(source, config, opts.configPath ?? '<config>');
    await source.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`carecycle_sync:setup:${config.source.slot}`]);
    const actions = [await applyState(config)];
    actions.push(await ensurePublication(source, config));
    const slot = await ensureSlot(source, config);
    actions.push(slot.action);
    return { actions, warnings, slotCreated: slot.created };
  } finally {
    await source.end().catch(() => undefined);
  }
}

/** Config vs catalog, and wal_level. Throws ConfigError (exit 2) naming every missing piece. */
async function checkSource(source: pg.Client, config: Config, configPath: string): Promise<CaptureProblem[]> {
  const catalog = await readCatalog(source, watchedTables(config));
  const problems = checkCaptureConfig(config, catalog);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new ConfigError(
      `${configPath}: the config does not match the database (${errors.length} problem${errors.length === 1 ? '' : 's'})`,
      errors.map(formatProblem),
    );
  }
  const { rows } = await source.query<{ wal_level: string }>('SHOW wal_level');
  if (rows[0]?.wal_level !== 'logical') {
    throw new FatalError(
      `the source database has wal_level=${rows[0]?.wal_level}; logical replication needs wal_level=logical.\n` +
        `  fix: ALTER SYSTEM SET wal_level = logical;  -- then restart Postgres`,
    );
  }
  return problems.filter((p) => p.severity === 'warning');
}

async function applyState(config: Config): Promise<string> {
  const client = new pg.Client(pgConfig(config, 'state', { application_name: 'carecycle-sync setup' }));
  await client.connect();
  try {
    const applied = await migrate(client, config.state.schema);
    return applied.length > 0
      ? `state schema "${config.state.schema}": applied ${applied.join(', ')}`
      : `state schema "${config.state.schema}": up to date`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface PublicationRow {
  puballtables: boolean;
  complete: boolean;
  tables: string[];
}

async function ensurePublication(source: pg.Client, config: Config): Promise<string> {
  const name = config.source.publication;
  const wanted = watchedTables(config);
  const list = wanted.map(quotedTable).join(', ');
  const { rows } = await source.query<PublicationRow>(
    `SELECT p.puballtables, (p.pubinsert AND p.pubupdate AND p.pubdelete AND p.pubtruncate) AS complete,
            coalesce((SELECT array_agg(t.schemaname || '.' || t.tablename) FROM pg_publication_tables t WHERE t.pubname = p.pubname), '{}') AS tables
       FROM pg_publication p WHERE p.pubname = $1`,
    [name],
  );
  const pub = rows[0];
  if (!pub) {
    await source.query(`CREATE PUBLICATION ${quoteIdent(name)} FOR TABLE ${list} WITH (publish = '${PUBLISH}')`);
    return `publication "${name}": created for ${wanted.map(qualifiedName).join(', ')}`;
  }
  const changes: string[] = [];
  if (!pub.complete) {
    await source.query(`ALTER PUBLICATION ${quoteIdent(name)} SET (publish = '${PUBLISH}')`);
    changes.push(`publish set to ${PUBLISH}`);
  }
  if (pub.puballtables) return `publication "${name}": exists FOR ALL TABLES${changes.length ? `; ${changes.join('; ')}` : ''}`;
  const have = new Set(pub.tables);
  const want = new Set(wanted.map(qualifiedName));
  const missing = [...want].filter((t) => !have.has(t));
  const extra = [...have].filter((t) => !want.has(t));
  if (missing.length > 0 || extra.length > 0) {
    await source.query(`ALTER PUBLICATION ${quoteIdent(name)} SET TABLE ${list}`);
    if (missing.length) changes.push(`added ${missing.join(', ')}`);
    if (extra.length) changes.push(`removed ${extra.join(', ')}`);
  }
  return `publication "${name}": ${changes.length ? changes.join('; ') : 'up to date'}`;
}

async function ensureSlot(source: pg.Client, config: Config): Promise<{ action: string; created: boolean }> {
  const slot = config.source.slot;
  const facts = await readSlotFacts(source, slot);
  const health = slotHealth(facts);
  if (health.state === 'foreign') throw new FatalError(`${slotProblem(slot, health)}\n  fix: ${foreignSlotFix(slot)}`);
  if (health.state === 'lost' && config.source.onSlotLost === 'recreate') {
    return {
      action: `slot "${slot}": LOST (${health.reason}); \`run\` recreates it and reconciles every customer (source.onSlotLost: recreate)`,
      created: false,
    };
  }
  if (health.state === 'lost') throw new FatalError(`${slotProblem(slot, health)}\n  fix: ${RESET_SLOT}`);
  if (facts) return { action: `slot "${slot}": exists (confirmed_flush_lsn ${facts.confirmedFlushLsn})`, created: false };
  const created = await source.query<{ lsn: string }>(`SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [
    slot,
  ]);
  const lsn = created.rows[0]!.lsn;
  try {
    await recordNewSlot(config, lsn);
  } catch (err) {
    // Without the record the first run would not backfill: undo, so a re-run starts clean.
    await source.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
    throw new Error(`slot "${slot}" created but recording it in the state schema failed; the slot was dropped again`, { cause: err });
  }
  return { action: `slot "${slot}": created at ${lsn} (the first run will backfill every customer)`, created: true };
}

/** A new slot: forget any checkpoint of an old slot of that name, and ask for the initial backfill. */
async function recordNewSlot(config: Config, slotLsn: string): Promise<void> {
  const client = new pg.Client(pgConfig(config, 'state', { application_name: 'carecycle-sync setup' }));
  await client.connect();
  try {
    const s = quoteIdent(config.state.schema);
    await client.query('BEGIN');
    await client.query(`DELETE FROM ${s}.checkpoint WHERE slot = $1`, [config.source.slot]);
    await client.query(
      `INSERT INTO ${s}.runtime (name, value) VALUES ($1, $2::jsonb)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [INITIAL_BACKFILL_DOC, JSON.stringify(initialBackfillValue(config.source.slot, slotLsn))],
    );
    // State kept from an earlier slot of this name: customers and policies deleted while no slot
    // streamed are found missing when every customer ever sent is assembled again.
    await requeueEverySent(client, 'change', s);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function initialBackfillValue(slot: string, slotLsn: string | null): Record<string, unknown> {
  return { slot, slotLsn, createdAt: new Date().toISOString(), status: 'requested' };
}

/** The SQL a DBA would run instead of `setup` (no connection needed). */
export function setupSql(config: Config): string {
  const schema = config.state.schema;
  const slot = config.source.slot;
  const pub = config.source.publication;
  const tables = watchedTables(config).map(quotedTable).join(', ');
  const separateState = config.state.url !== undefined && config.state.url !== config.source.url;
  return [
    `-- carecycle-sync setup, as SQL. Run as a role that may create schemas, publications and slots.`,
    `-- 1. State schema${separateState ? ' (in the STATE database, STATE_DATABASE_URL)' : ''}`,
    migrationScript(schema).trimEnd(),
    `RESET search_path;`,
    ``,
    `-- 2. Publication (in the SOURCE database), before the slot`,
    `CREATE PUBLICATION ${quoteIdent(pub)} FOR TABLE ${tables} WITH (publish = '${PUBLISH}');`,
    ``,
    `-- 3. Replication slot (in the SOURCE database; needs REPLICATION or superuser)`,
    `SELECT pg_create_logical_replication_slot('${slot}', 'pgoutput');`,
    ``,
    `-- 4. Ask the first run to backfill every customer${separateState ? ' (in the STATE database)' : ''}`,
    `DELETE FROM ${quoteIdent(schema)}.checkpoint WHERE slot = '${slot}';`,
    `INSERT INTO ${quoteIdent(schema)}.runtime (name, value) VALUES ('${INITIAL_BACKFILL_DOC}', '${JSON.stringify(initialBackfillValue(slot, null))}')`,
    `  ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now();`,
    ``,
  ].join('\n');
}
