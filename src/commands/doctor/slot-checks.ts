import { foreignSlotFix, lostSlotDetail, RESET_SLOT, slotHealth } from '../../pg/slot.js';
import type { SourceFacts } from './facts.js';
import { fail, pass, warn, type CheckResult } from './types.js';

/**
 * The slot: exists, is ours (pgoutput, this database), is not streamed by someone else, and how
 * much WAL it holds back against max_slot_wal_keep_size (docs/replication.md, "Slots and
 * snapshots"). A lost slot is an error that says what to do, never a silent restart from "now".
 */

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function checkSlot(f: SourceFacts, slotName: string): CheckResult {
  const name = `slot ${slotName}`;
  const s = f.slot;
  const health = slotHealth(s);
  if (!s || health.state === 'missing') return fail(name, 'does not exist', 'carecycle-sync setup');
  if (health.state === 'foreign') return fail(name, `exists but is ${health.reason}`, foreignSlotFix(slotName));
  if (health.state === 'lost') return fail(name, lostSlotDetail(health.reason), RESET_SLOT);
  if (s.active) {
    const app = s.activeApplication ?? 'unknown application';
    // The daemon itself holding its slot is the normal case while it runs.
    if (/carecycle/i.test(app)) return pass(name, `streaming to a running carecycle-sync (PID ${s.activePid})`);
    return fail(
      name,
      `is being streamed by another consumer (PID ${s.activePid}, ${app}); only one consumer can use a slot`,
      `stop that consumer, or give carecycle-sync its own source.slot; to end it: SELECT pg_terminate_backend(${s.activePid});`,
    );
  }
  const lag = s.lagBytes === null ? '' : `, ${formatBytes(s.lagBytes)} not yet confirmed`;
  return pass(name, `exists, idle (no daemon streaming)${lag}`);
}

/** Retained WAL against the server's limit; `unreserved` means invalidation is near. */
export function checkRetainedWal(f: SourceFacts, slotName: string): CheckResult | undefined {
  const s = f.slot;
  if (!s || slotHealth(s).state === 'lost' || s.retainedBytes === null) return undefined;
  const name = `WAL retained by ${slotName}`;
  const retained = formatBytes(s.retainedBytes);
  const limitMb = f.maxSlotWalKeepSizeMb;
  if (s.walStatus === 'unreserved') {
    return fail(
      name,
      `${retained}, beyond max_slot_wal_keep_size (${limitMb} MB): the slot will be invalidated at the next checkpoint unless the daemon catches up`,
      'start (or fix) carecycle-sync run now; see `carecycle-sync status` for its last error',
    );
  }
  if (limitMb < 0) {
    const detail = `${retained}; max_slot_wal_keep_size is unlimited, so a stopped daemon makes WAL grow until the disk is full`;
    return s.retainedBytes > 1024 ** 3
      ? warn(name, detail, "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf();  -- size it to your disk")
      : pass(name, detail);
  }
  const limit = limitMb * 1024 * 1024;
  const share = s.retainedBytes / limit;
  const detail = `${retained} of max_slot_wal_keep_size ${formatBytes(limit)} (${Math.round(share * 100)} %)`;
  if (share >= 0.8)
    return fail(
      name,
      `${detail}: close to invalidation`,
      'start (or fix) carecycle-sync run so it confirms the stream; or raise max_slot_wal_keep_size',
    );
  if (share >= 0.5) return warn(name, detail, 'check that carecycle-sync run is streaming (`carecycle-sync status`)');
  return pass(name, detail);
}

export function slotChecks(f: SourceFacts, slotName: string): CheckResult[] {
  const retained = checkRetainedWal(f, slotName);
  return [checkSlot(f, slotName), ...(retained ? [retained] : [])];
}
