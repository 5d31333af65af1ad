import type { Problem } from '../errors.js';

/** What capture reports about itself (for `run`'s readiness, metrics and the runtime table). */
export interface CaptureStatus {
  slot: string;
  /** The replication stream is streaming from the slot. */
  connected: boolean;
  /** Waiting for the slot's advisory lock, held by another instance. */
  isStandby: boolean;
  /** Last LSN sent to Postgres as confirmed (its keys are durable in `pending`). */
  lastConfirmedLsn: string | null;
  /** When our own heartbeat message last came back through the stream. */
  lastHeartbeatAt: Date | null;
  lastError: { message: string; at: Date } | null;
  /** A Postgres error only a person can fix (src/pg/sqlstate.ts), while capture retries it slowly. */
  problem: Problem | null;
  /** Row changes of watched tables seen (replays after a reconnect count again). */
  changesSeen: number;
  /** Customer keys written to `pending` (before coalescing by the table). */
  keysFlushed: number;
  flushes: number;
  /** Total time spent writing flushes (ms). */
  flushMs: number;
  /** Changes whose customer could not be known (see REPLICA IDENTITY warnings). */
  unattributedChanges: number;
  /** Lost slots this process recreated. */
  slotRecreations: number;
  /** Configured key columns that disappeared from a watched table (one message each). */
  schemaProblems: string[];
  reconnects: number;
}

export function initialStatus(slot: string): CaptureStatus {
  return {
    slot,
    connected: false,
    isStandby: false,
    lastConfirmedLsn: null,
    lastHeartbeatAt: null,
    lastError: null,
    problem: null,
    changesSeen: 0,
    keysFlushed: 0,
    flushes: 0,
    flushMs: 0,
    unattributedChanges: 0,
    slotRecreations: 0,
    schemaProblems: [],
    reconnects: 0,
  };
}
