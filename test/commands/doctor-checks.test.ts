import { describe, it, expect } from 'vitest';
import type { SourceFacts, SlotFacts } from '../../src/commands/doctor/facts.js';
import { checkCapacity, checkVersion } from '../../src/commands/doctor/server-checks.js';
import { checkRetainedWal, checkSlot, formatBytes } from '../../src/commands/doctor/slot-checks.js';
import { judgeProbe } from '../../src/commands/doctor/api-check.js';
import { checkState } from '../../src/commands/doctor/state-check.js';
import { checkReplicaIdentity } from '../../src/commands/doctor/table-checks.js';
import { formatReport } from '../../src/commands/doctor/format.js';
import { report, pass, fail, warn } from '../../src/commands/doctor/types.js';

const slot = (s: Partial<SlotFacts> = {}): SlotFacts => ({
  plugin: 'pgoutput',
  slotType: 'logical',
  database: 'crm',
  here: true,
  active: false,
  activePid: null,
  activeApplication: null,
  walStatus: 'reserved',
  retainedBytes: 1000,
  lagBytes: 10,
  invalidationReason: null,
  confirmedFlushLsn: '0/16B3748',
  restartLsn: '0/16B3710',
  safeWalSizeBytes: null,
  ...s,
});
const facts = (f: Partial<SourceFacts> = {}): SourceFacts => ({
  versionNum: 160004,
  version: '16.4',
  user: 'carecycle',
  database: 'crm',
  superuser: false,
  replication: true,
  replicationVia: 'REPLICATION attribute',
  walLevel: 'logical',
  maxReplicationSlots: 10,
  maxWalSenders: 10,
  maxSlotWalKeepSizeMb: -1,
  slotsUsed: 0,
  walSendersUsed: 0,
  tables: [],
  publication: null,
  slot: null,
  ...f,
});

describe('doctor: server checks', () => {
  it('needs a free slot only when ours does not exist, and a free sender only when ours is not streaming', () => {
    expect(checkCapacity(facts({ slotsUsed: 10, maxReplicationSlots: 10 }))[0]).toMatchObject({
      ok: false,
      fix: expect.stringContaining('max_replication_slots = 13'),
    });
    expect(checkCapacity(facts({ slotsUsed: 10, maxReplicationSlots: 10, slot: slot() }))[0]).toMatchObject({ ok: true, warn: true });
    expect(checkCapacity(facts({ slotsUsed: 3, slot: slot() }))[0]).toMatchObject({ ok: true, detail: '3 of 10 in use (ours included)' });
    expect(checkCapacity(facts({ walSendersUsed: 10 }))[1]).toMatchObject({
      ok: false,
      fix: expect.stringContaining('ALTER SYSTEM SET max_wal_senders'),
    });
    expect(checkCapacity(facts({ walSendersUsed: 10, slot: slot({ active: true, activeApplication: 'carecycle-sync' }) }))[1]?.ok).toBe(
      true,
    );
  });
  it('refuses PostgreSQL 13, warns on 14', () => {
    expect(checkVersion(facts({ versionNum: 130010, version: '13.10' })).ok).toBe(false);
    expect(checkVersion(facts({ versionNum: 140010, version: '14.10' }))).toMatchObject({ ok: true, warn: true });
    expect(checkVersion(facts({ versionNum: 180004, version: '18.4' }))).toMatchObject({ ok: true });
  });
});

describe('doctor: slot checks', () => {
  it('says what to do with a lost slot, a foreign consumer, a slot of another database', () => {
    expect(checkSlot(facts({ slot: slot({ walStatus: 'lost', invalidationReason: 'wal_removed' }) }), 's')).toMatchObject({
      ok: false,
      detail: 'is lost (invalidated: wal_removed): changes made since are gone from the stream',
      fix: expect.stringContaining('teardown --yes && carecycle-sync setup'),
    });
    expect(checkSlot(facts({ slot: slot({ active: true, activePid: 77, activeApplication: 'debezium' }) }), 's')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('pg_terminate_backend(77)'),
    });
    expect(checkSlot(facts({ slot: slot({ active: true, activePid: 77, activeApplication: 'carecycle-sync' }) }), 's').ok).toBe(true);
    expect(checkSlot(facts({ slot: slot({ database: 'other', here: false }) }), 's').ok).toBe(false);
    expect(checkSlot(facts({ slot: slot({ plugin: 'wal2json' }) }), 's').ok).toBe(false);
  });

  it('calls a slot PostgreSQL 17+ invalidated lost, as capture does, whatever its wal_status', () => {
    expect(checkSlot(facts({ slot: slot({ walStatus: 'reserved', invalidationReason: 'idle_timeout' }) }), 's')).toMatchObject({
      ok: false,
      detail: expect.stringContaining('is lost (invalidated: idle_timeout)'),
    });
  });
  it('judges retained WAL against max_slot_wal_keep_size', () => {
    const mb = 1024 * 1024;
    expect(checkRetainedWal(facts({ maxSlotWalKeepSizeMb: 1000, slot: slot({ retainedBytes: 100 * mb }) }), 's')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('(10 %)'),
    });
    expect(checkRetainedWal(facts({ maxSlotWalKeepSizeMb: 1000, slot: slot({ retainedBytes: 600 * mb }) }), 's')).toMatchObject({
      ok: true,
      warn: true,
    });
    expect(checkRetainedWal(facts({ maxSlotWalKeepSizeMb: 1000, slot: slot({ retainedBytes: 900 * mb }) }), 's')?.ok).toBe(false);
    expect(
      checkRetainedWal(facts({ maxSlotWalKeepSizeMb: 1000, slot: slot({ walStatus: 'unreserved', retainedBytes: 1100 * mb }) }), 's')
        ?.detail,
    ).toMatch(/will be invalidated/);
    expect(checkRetainedWal(facts({ slot: slot({ retainedBytes: 5 * 1024 * mb }) }), 's')).toMatchObject({
      ok: true,
      warn: true,
      fix: expect.stringContaining('max_slot_wal_keep_size'),
    });
    expect(checkRetainedWal(facts({ slot: slot({ walStatus: 'lost' }) }), 's')).toBeUndefined();
    expect(formatBytes(1536)).toBe('1.5 kB');
  });
});

describe('doctor: replica identity', () => {
  const t = { name: 'public.policies', role: 'policies', exists: true, canSelect: true, kind: 'r', keyColumns: ['id'] };
  it('accepts DEFAULT with a primary key; rejects NOTHING and DEFAULT without a key', () => {
    expect(checkReplicaIdentity({ ...t, replicaIdentity: 'd', hasPrimaryKey: true })?.ok).toBe(true);
    expect(checkReplicaIdentity({ ...t, replicaIdentity: 'd', hasPrimaryKey: false })).toMatchObject({
      ok: false,
      fix: 'ALTER TABLE "public"."policies" REPLICA IDENTITY FULL;  -- or add a primary key',
    });
    expect(checkReplicaIdentity({ ...t, replicaIdentity: 'n', hasPrimaryKey: true })?.ok).toBe(false);
    expect(checkReplicaIdentity({ ...t, replicaIdentity: 'f', hasPrimaryKey: false })?.ok).toBe(true);
  });
});

describe('doctor: API probe verdicts', () => {
  const url = 'https://api.carecycle.ai/v2/sync/aca';
  it('treats VALIDATION_ERROR (400 or 422) as a valid key and says it cost a request', () => {
    expect(judgeProbe({ status: 400, code: 'VALIDATION_ERROR' }, url)).toMatchObject({
      ok: true,
      detail: expect.stringContaining('1 request'),
    });
    expect(judgeProbe({ status: 422, code: 'VALIDATION_ERROR' }, url).ok).toBe(true);
  });
  it('fails on 401, 403, 404, 5xx; only warns on 429', () => {
    expect(judgeProbe({ status: 401, code: 'UNAUTHORIZED', message: 'API key invalid' }, url)).toMatchObject({
      ok: false,
      fix: expect.stringContaining('CARECYCLE_API_KEY'),
    });
    expect(judgeProbe({ status: 403, code: 'FORBIDDEN' }, url).ok).toBe(false);
    expect(judgeProbe({ status: 404 }, url).ok).toBe(false);
    expect(judgeProbe({ status: 503 }, url).ok).toBe(false);
    expect(judgeProbe({ status: 429, code: 'RATE_LIMIT_EXCEEDED', retryAfter: 60 }, url)).toMatchObject({
      ok: true,
      warn: true,
      detail: expect.stringContaining('60 s'),
    });
  });
});

describe('doctor: state schema', () => {
  const base = { user: 'carecycle', schemaExists: true, hasTables: true, canRead: true, canWrite: true, applied: [1, 2] };
  it('asks for setup when migrations are missing, and an upgrade when the state is newer', () => {
    expect(checkState(base, 's', [1, 2]).ok).toBe(true);
    expect(checkState({ ...base, applied: [1] }, 's', [1, 2])).toMatchObject({
      ok: false,
      detail: expect.stringContaining('migrations 2 not applied'),
    });
    expect(checkState({ ...base, applied: [1, 2, 3] }, 's', [1, 2]).detail).toMatch(/newer version/);
    expect(
      checkState({ ...base, schemaExists: false, hasTables: false, canRead: false, canWrite: false, applied: [] }, 's', [1, 2]).fix,
    ).toBe('carecycle-sync setup');
  });
});

describe('doctor: formatting', () => {
  it('prints fixes only for failures and warnings, and a closing verdict', () => {
    const text = formatReport(report([pass('a', 'fine'), warn('b', 'hmm', 'do b'), fail('c', 'broken', 'do c')]));
    expect(text).toContain('[ ok ] a');
    expect(text).toContain('fix: do b');
    expect(text).toContain('[FAIL] c');
    expect(text).toContain('fix: do c');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      '1 of 3 checks failed, 1 warning: apply the fixes above, then run carecycle-sync doctor again',
    );
    expect(formatReport(report([pass('a', 'fine')]))).toMatch(/all 1 checks passed\n$/);
  });
});
