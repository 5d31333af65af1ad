import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely types of the state tables (sql/migrations/001_state.sql). Timestamps come back as
 * Date; pg_lsn and bigint as strings (pg's default parsers); jsonb as parsed JSON.
 *
 * `pending`, `sent` and `sent_policies` have none: every statement on them is SQL text in
 * src/queue/, run through src/state/prepared.ts (docs/state-tables.md, "Who writes the SQL").
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface CheckpointTable {
  slot: string;
  lsn: string;
  updated_at: Timestamp;
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
  dead_letters: DeadLettersTable;
  backfill: BackfillTable;
  runtime: RuntimeTable;
  requests: RequestsTable;
}

/** Priorities in `pending`: lower goes first. */
export const PRIORITY = { live: 0, backfill: 1 } as const;
