import { plainIdent as ident } from '../../pg/names.js';
import type { SourceFacts } from './facts.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/** Server-level checks: version, wal_level, slot and sender headroom, REPLICATION privilege. */

export function checkVersion(f: SourceFacts): CheckResult {
  const name = 'server version';
  const major = Math.floor(f.versionNum / 10000);
  if (major >= 15) return pass(name, `PostgreSQL ${f.version}`);
  // pg-logical-replication always sends the `messages` option, which PG 13 and older refuse.
  if (major === 14) return warn(name, `PostgreSQL ${f.version}: should work, but only 15–18 are tested`);
  return fail(
    name,
    `PostgreSQL ${f.version}: logical decoding with pgoutput messages needs PostgreSQL 14 or newer (15+ supported)`,
    'upgrade the source database to PostgreSQL 15 or newer',
  );
}

export function checkWalLevel(f: SourceFacts): CheckResult {
  const name = 'wal_level';
  if (f.walLevel === 'logical') return pass(name, 'logical');
  return fail(
    name,
    `wal_level is ${f.walLevel}; logical replication needs logical`,
    'ALTER SYSTEM SET wal_level = logical;  -- then restart Postgres (managed services: set the parameter, e.g. rds.logical_replication = 1 on RDS, cloudsql.logical_decoding = on on Cloud SQL)',
  );
}

/**
 * A new slot needs a free max_replication_slots entry; streaming needs a free walsender (unless
 * our slot is already being streamed). Taking the last free sender leaves none for backups or
 * standbys, which is worth a warning.
 */
export function checkCapacity(f: SourceFacts): CheckResult[] {
  const haveSlot = f.slot !== null;
  const slotsAfter = f.slotsUsed + (haveSlot ? 0 : 1);
  const slotFix = `ALTER SYSTEM SET max_replication_slots = ${Math.max(10, slotsAfter + 2)};  -- then restart Postgres`;
  const slots =
    slotsAfter > f.maxReplicationSlots
      ? fail(
          'max_replication_slots',
          `${f.slotsUsed} of ${f.maxReplicationSlots} slots in use; no room for slot of carecycle-sync`,
          slotFix,
        )
      : slotsAfter === f.maxReplicationSlots
        ? warn(
            'max_replication_slots',
            `${slotsAfter} of ${f.maxReplicationSlots} slots in use with ours: no headroom left for other consumers`,
            slotFix,
          )
        : pass(
            'max_replication_slots',
            `${f.slotsUsed} of ${f.maxReplicationSlots} in use${haveSlot ? ' (ours included)' : '; ours will take one more'}`,
          );

  const streaming = f.slot?.active === true;
  const sendersAfter = f.walSendersUsed + (streaming ? 0 : 1);
  const senderFix = `ALTER SYSTEM SET max_wal_senders = ${Math.max(10, sendersAfter + 2)};  -- then restart Postgres`;
  const senders =
    sendersAfter > f.maxWalSenders
      ? fail(
          'max_wal_senders',
          `${f.walSendersUsed} of ${f.maxWalSenders} WAL senders busy; the daemon could not connect for replication`,
          senderFix,
        )
      : sendersAfter === f.maxWalSenders
        ? warn(
            'max_wal_senders',
            `${sendersAfter} of ${f.maxWalSenders} WAL senders busy with ours: none left for backups or standbys`,
            senderFix,
          )
        : pass(
            'max_wal_senders',
            `${f.walSendersUsed} of ${f.maxWalSenders} busy${streaming ? ' (ours included)' : '; ours will take one more'}`,
          );
  return [slots, senders];
}

export function checkReplicationPrivilege(f: SourceFacts): CheckResult {
  const name = 'replication privilege';
  if (f.replication) return pass(name, `role ${f.user} may replicate (${f.replicationVia})`);
  return fail(
    name,
    `role ${f.user} has neither REPLICATION nor superuser: it cannot create a slot or stream changes`,
    `ALTER ROLE ${ident(f.user)} REPLICATION;  -- as a superuser (RDS: GRANT rds_replication TO ${ident(f.user)};)`,
  );
}

export function serverChecks(f: SourceFacts): CheckResult[] {
  return [checkVersion(f), checkWalLevel(f), ...checkCapacity(f), checkReplicationPrivilege(f)];
}
