import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import { watchedTables } from '../../pg/catalog.js';
import { qualifiedName } from '../../pg/names.js';
import { readSlotFacts, type SlotFacts } from '../../pg/slot.js';

/**
 * Everything the source-database checks decide on, read with a handful of catalog queries as
 * the configured user. The checks themselves (server-checks.ts, table-checks.ts,
 * slot-checks.ts) are pure functions over these facts.
 */

export interface TableFacts {
  /** `schema.table` */
  name: string;
  /** Config section that names it: customers, policies or watch[i]. */
  role: string;
  exists: boolean;
  canSelect: boolean;
  /** d(efault), n(othing), f(ull), i(ndex); null when the table does not exist. */
  replicaIdentity: 'd' | 'n' | 'f' | 'i' | null;
  hasPrimaryKey: boolean;
  /** r(egular) or p(artitioned). */
  kind: string | null;
  /** Columns capture reads from the change itself: the key and the customer key. */
  keyColumns: string[];
}

export interface PublicationFacts {
  name: string;
  owner: string;
  allTables: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  viaRoot: boolean;
  /** Published tables as `schema.table`, with row filter and column list (PG 15+). */
  tables: Array<{ name: string; rowFilter: string | null; columns: string[] | null }>;
}

export type { SlotFacts };

export interface SourceFacts {
  versionNum: number;
  version: string;
  user: string;
  database: string;
  superuser: boolean;
  /** rolreplication, or membership in a cloud's replication role (rds_replication). */
  replication: boolean;
  replicationVia: string | null;
  walLevel: string;
  maxReplicationSlots: number;
  maxWalSenders: number;
  /** max_slot_wal_keep_size in MB; -1 means unlimited. */
  maxSlotWalKeepSizeMb: number;
  slotsUsed: number;
  walSendersUsed: number;
  tables: TableFacts[];
  publication: PublicationFacts | null;
  slot: SlotFacts | null;
}

interface TableRole {
  role: string;
  keys: string[];
}

const tableRoles = (config: Config): Map<string, TableRole> => {
  const roles = new Map<string, TableRole>();
  const add = (ref: string, role: string, keys: string[]) => {
    const q = qualifiedName(ref);
    if (!roles.has(q)) roles.set(q, { role, keys });
  };
  add(config.customers.table, 'customers', [config.customers.key]);
  if (config.policies) add(config.policies.table, 'policies', [config.policies.key, config.policies.customerKey]);
  config.watch.forEach((w, i) => add(w.table, `watch[${i}]`, [w.customerKey]));
  return roles;
};

export async function readSourceFacts(client: pg.ClientBase, config: Config): Promise<SourceFacts> {
  const server = (await client.query(SERVER_SQL)).rows[0] as Record<string, string | number | boolean | null>;
  const roles = tableRoles(config);
  const tables = await readTables(client, watchedTables(config).map(qualifiedName), roles);
  return {
    versionNum: Number(server.version_num),
    version: String(server.version),
    user: String(server.usr),
    database: String(server.db),
    superuser: server.rolsuper === true,
    replication: server.rolsuper === true || server.rolreplication === true || server.rds_replication === true,
    replicationVia: server.rolsuper
      ? 'superuser'
      : server.rolreplication
        ? 'REPLICATION attribute'
        : server.rds_replication
          ? 'rds_replication role'
          : null,
    walLevel: String(server.wal_level),
    maxReplicationSlots: Number(server.max_replication_slots),
    maxWalSenders: Number(server.max_wal_senders),
    maxSlotWalKeepSizeMb: Number(server.max_slot_wal_keep_size),
    slotsUsed: Number(server.slots_used),
    walSendersUsed: Number(server.senders_used),
    tables,
    publication: await readPublication(client, config.source.publication, Number(server.version_num)),
    slot: await readSlotFacts(client, config.source.slot),
  };
}

const SERVER_SQL = `SELECT current_setting('server_version_num') AS version_num, current_setting('server_version') AS version,
       current_user AS usr, current_database() AS db, r.rolsuper, r.rolreplication,
       (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_replication') AND pg_has_role(current_user, 'rds_replication', 'member')) AS rds_replication,
       current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots') AS max_replication_slots,
       current_setting('max_wal_senders') AS max_wal_senders,
       (SELECT setting FROM pg_settings WHERE name = 'max_slot_wal_keep_size') AS max_slot_wal_keep_size,
       (SELECT count(*) FROM pg_replication_slots) AS slots_used,
       (SELECT count(*) FROM pg_stat_replication) AS senders_used
  FROM pg_roles r WHERE r.rolname = current_user`;

async function readTables(client: pg.ClientBase, names: string[], roles: Map<string, TableRole>): Promise<TableFacts[]> {
  const { rows } = await client.query<{
    name: string;
    replident: TableFacts['replicaIdentity'];
    haspk: boolean;
    kind: string;
    can_select: boolean;
  }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relreplident AS replident, c.relkind::text AS kind,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS haspk,
            has_table_privilege(c.oid, 'SELECT') AS can_select
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname || '.' || c.relname = ANY($1::text[])`,
    [names],
  );
  const found = new Map(rows.map((r) => [r.name, r]));
  return names.map((name) => {
    const r = found.get(name);
    return {
      name,
      role: roles.get(name)?.role ?? 'watch',
      keyColumns: roles.get(name)?.keys ?? [],
      exists: r !== undefined,
      canSelect: r?.can_select ?? false,
      replicaIdentity: r?.replident ?? null,
      hasPrimaryKey: r?.haspk ?? false,
      kind: r?.kind ?? null,
    };
  });
}

async function readPublication(client: pg.ClientBase, name: string, versionNum: number): Promise<PublicationFacts | null> {
  const { rows } = await client.query<{
    owner: string;
    puballtables: boolean;
    pubinsert: boolean;
    pubupdate: boolean;
    pubdelete: boolean;
    pubviaroot: boolean;
  }>(
    `SELECT pg_get_userbyid(pubowner) AS owner, puballtables, pubinsert, pubupdate, pubdelete, pubviaroot FROM pg_publication WHERE pubname = $1`,
    [name],
  );
  const p = rows[0];
  if (!p) return null;
  // Row filters and column lists exist since PG 15.
  const extra = versionNum >= 150000 ? ', rowfilter, attnames::text[] AS columns' : ', NULL AS rowfilter, NULL::text[] AS columns';
  const t = await client.query<{ name: string; rowfilter: string | null; columns: string[] | null }>(
    `SELECT schemaname || '.' || tablename AS name${extra} FROM pg_publication_tables WHERE pubname = $1`,
    [name],
  );
  return {
    name,
    owner: p.owner,
    allTables: p.puballtables,
    insert: p.pubinsert,
    update: p.pubupdate,
    delete: p.pubdelete,
    viaRoot: p.pubviaroot,
    tables: t.rows.map((r) => ({ name: r.name, rowFilter: r.rowfilter, columns: r.columns })),
  };
}
