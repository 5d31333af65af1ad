import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely types of the state tables (sql/migrations/001_state.sql). Timestamps come back as
 * Date; pg_lsn and bigint as strings (pg's default parsers); jsonb as parsed JSON.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface CheckpointTable {
  slot: string;
  lsn: string;
  updated_at: Timestamp;
}

export interface PendingTable {
  customer_key: string;
  version: ColumnType<string, string | number | undefined, string | number>;
  priority: ColumnType<number, number | undefined, number>;
  first_enqueued_at: Timestamp;
  last_enqueued_at: Timestamp;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  last_error: string | null;
}

export interface SentTable {
  customer_key: string;
  payload_hash: string;
  /** Sent once more to restore auto-terminated policies (migration 007). */
  restore: ColumnType<boolean, boolean | undefined, boolean>;
  sent_at: Timestamp;
  /** Identifying fields of the last record sent (migration 002), for cancel-policies. */
  identity: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** Customer fields the last send carried with a value (migration 006); null: not known. */
  valued: ColumnType<string[] | null, string | null | undefined, string | null>;
}

export interface SentPoliciesTable {
  policy_key: string;
  customer_key: string;
  identifiers: ColumnType<Record<string, string>, string, string>;
  status: string | null;
  sent_at: Timestamp;
  /** Policy fields the last send carried with a value (migration 006); null: not known. */
  valued: ColumnType<string[] | null, string | null | undefined, string | null>;
}

export interface DeadLettersTable {
  customer_key: string;
  payload: ColumnType<unknown, string | null, string | null>;
  reason: string;
  field_path: string | null;
  http_status: number | null;
  attempts: ColumnType<number, number | undefined, number>;
  first_failed_at: Timestamp;
  last_failed_at: Timestamp;
}

export interface BackfillTable {
  run_id: Generated<Int8>;
  where_sql: string | null;
  cursor: string | null;
  enqueued: ColumnType<string, string | number | undefined, string | number>;
  total: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  started_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface RuntimeTable {
  name: string;
  value: ColumnType<unknown, string, string>;
  updated_at: Timestamp;
}

export interface RequestsTable {
  id: Generated<Int8>;
  at: Timestamp;
  status: number;
  records: number;
}

export interface StateTables {
  checkpoint: CheckpointTable;
  pending: PendingTable;
  sent: SentTable;
  sent_policies: SentPoliciesTable;
  dead_letters: DeadLettersTable;
  backfill: BackfillTable;
  runtime: RuntimeTable;
  requests: RequestsTable;
}

/** Priorities in `pending`: lower goes first. */
export const PRIORITY = { live: 0, backfill: 1 } as const;
