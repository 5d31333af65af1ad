-- carecycle-sync: a least-privilege role for the daemon (PostgreSQL 15–18).
--
-- Run ONCE per CRM database as a superuser (or, on a managed service, the admin role; see
-- the notes at the end), connected to the CRM database, with psql:
--
--   psql "postgres://admin@crm-db/crm" -v ON_ERROR_STOP=1 \
--        -v role=carecycle -v password="$CARECYCLE_DB_PASSWORD" \
--        -v tables='public.customers, public.policies, public.customer_phones' \
--        -f sql/roles/least-privilege.sql
--
-- Variables (all optional but `tables`; defaults match the config defaults):
--   role         login role of the daemon                      (carecycle)
--   password     its password; omit to set one yourself         (none)
--   tables       every table the config maps or watches: customers.table, policies.table,
--                watch[].table, comma-separated, schema-qualified
--   publication  source.publication                            (carecycle_sync)
--   state_schema state.schema                                  (carecycle_sync)
--
-- Then, as the new role: `carecycle-sync setup` (creates the state tables and the slot; finds
-- the publication made here), `carecycle-sync doctor`, `carecycle-sync run`.
--
-- What the daemon needs, and why:
--   LOGIN REPLICATION   create its logical slot and stream from it (no superuser)
--   SELECT on tables    records are assembled from the current rows
--   the state schema    owned by the role: queue, checkpoint, dead letters (migrations by setup)
--   nothing else        no write access to the CRM, no CREATE on the database
--
-- Publications: CREATE PUBLICATION ... FOR TABLE needs ownership of every listed table (and
-- CREATE on the database); FOR ALL TABLES and FOR TABLES IN SCHEMA need a superuser. The same
-- holds for ALTER PUBLICATION ... ADD TABLE. This is so on PostgreSQL 15, 16, 17 and 18. The
-- daemon's role owns none of the CRM tables, so this script (run by their owner or a
-- superuser) creates the publication; the daemon only reads it — a pgoutput consumer needs no
-- privilege on the publication itself. When the config later maps another table, the DBA runs
-- ALTER PUBLICATION <publication> ADD TABLE <table>; (`carecycle-sync doctor` prints it).
-- Alternative, not recommended: make the daemon's role a member of the tables' owner role,
-- which also gives it write access to the CRM.

\set ON_ERROR_STOP on
\if :{?role}
\else
  \set role carecycle
\endif
\if :{?publication}
\else
  \set publication carecycle_sync
\endif
\if :{?state_schema}
\else
  \set state_schema carecycle_sync
\endif
\if :{?tables}
\else
  \warn 'least-privilege.sql: set -v tables=''schema.table, ...'' (every table of customers, policies and watch in the config)'
  SELECT 1 / 0 AS tables_variable_missing;
\endif

BEGIN;

-- 1. The role (idempotent). REPLICATION lets it create a logical slot and stream changes.
--    PostgreSQL 16+: a CREATEROLE (non-superuser) admin may grant REPLICATION only if it has it.
SELECT format('CREATE ROLE %I LOGIN REPLICATION', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN REPLICATION', :'role') \gexec
\if :{?password}
  SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
\endif

-- 2. Connect to this database, read the mapped tables (and see their schemas).
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'role') \gexec
SELECT DISTINCT format('GRANT USAGE ON SCHEMA %I TO %I', n.nspname, :'role')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.oid = ANY (SELECT unnest(string_to_array(replace(:'tables', ' ', ''), ','))::regclass) \gexec
GRANT SELECT ON :tables TO :"role";

-- 3. The state schema, owned by the role, so `setup` can create and migrate its tables there
--    without CREATE on the database. (To keep state in another database, run this step there
--    and set STATE_DATABASE_URL.)
CREATE SCHEMA IF NOT EXISTS :"state_schema" AUTHORIZATION :"role";
SELECT format('ALTER SCHEMA %I OWNER TO %I', :'state_schema', :'role') \gexec

-- 4. The publication (as the tables' owner or a superuser), exactly as `setup` would make it,
--    so `setup` finds it complete and leaves it alone.
SELECT format('CREATE PUBLICATION %I FOR TABLE %s WITH (publish = %L)', :'publication', :'tables', 'insert, update, delete, truncate')
 WHERE NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = :'publication') \gexec

COMMIT;

\echo
\echo 'Done. Next, as role' :'role' ':'
\echo '  carecycle-sync setup    # state tables and the replication slot'
\echo '  carecycle-sync doctor   # every check should pass'
\echo
\echo 'Also check, outside this script:'
\echo '  * wal_level = logical (ALTER SYSTEM SET wal_level = logical; then restart), free'
\echo '    max_replication_slots and max_wal_senders entries, and max_slot_wal_keep_size sized to'
\echo '    the disk (it bounds the WAL a stopped daemon can pin).'
\echo '  * pg_hba.conf admits the role to THIS database: logical replication connections match'
\echo '    the database name, not the "replication" keyword (that is for physical replication).'

-- Managed services:
--   Amazon RDS / Aurora: set rds.logical_replication = 1 in the parameter group (reboot), and
--     instead of the REPLICATION attribute: GRANT rds_replication TO carecycle;
--   Google Cloud SQL: set the flag cloudsql.logical_decoding = on; create the role with
--     REPLICATION as the cloudsqlsuperuser admin (ALTER ROLE carecycle REPLICATION).
--   Azure Database for PostgreSQL flexible server: wal_level = logical server parameter; the
--     admin role may grant REPLICATION (ALTER ROLE carecycle REPLICATION).
--
-- To remove everything later: `carecycle-sync teardown --yes --drop-state` (as the role; drops
-- the slot and the state schema; dropping the publication needs its owner), then as the admin:
--   DROP PUBLICATION IF EXISTS carecycle_sync;  DROP OWNED BY carecycle;  DROP ROLE carecycle;
