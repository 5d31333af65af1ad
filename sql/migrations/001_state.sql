-- carecycle-sync state schema, version 1 (docs/state-tables.md).
-- Applied by `setup` inside the configured schema (search_path is set to it), in one
-- transaction, under an advisory lock, and recorded in schema_migrations.

-- The LSN whose changes are durable in `pending`; confirmed to Postgres only after this commits.
CREATE TABLE checkpoint (
  slot        text PRIMARY KEY,
  lsn         pg_lsn NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Customers that need a (re-)send. One row per customer key: the queue coalesces by construction.
-- priority: 0 = live change, 1 = backfill (lower goes first). version bumps on every re-enqueue,
-- so delivery deletes a row only if it was not re-queued while in flight.
CREATE TABLE pending (
  customer_key       text PRIMARY KEY,
  version            bigint NOT NULL DEFAULT 1,
  priority           smallint NOT NULL DEFAULT 0,
  first_enqueued_at  timestamptz NOT NULL DEFAULT now(),
  last_enqueued_at   timestamptz NOT NULL DEFAULT now(),
  attempts           integer NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz NOT NULL DEFAULT now(),
  last_error         text
);
CREATE INDEX pending_order ON pending (priority, first_enqueued_at);

-- Hash of the canonical JSON last delivered per customer: an identical record is skipped.
CREATE TABLE sent (
  customer_key  text PRIMARY KEY,
  payload_hash  text NOT NULL,
  sent_at       timestamptz NOT NULL DEFAULT now()
);

-- Policies last sent per customer, with the identifiers CareCycle matches them by, so a policy
-- that disappears (hard delete, or leaves policies.where) can be sent once more as cancelled.
CREATE TABLE sent_policies (
  policy_key    text PRIMARY KEY,
  customer_key  text NOT NULL,
  identifiers   jsonb NOT NULL,
  status        text,
  sent_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sent_policies_customer ON sent_policies (customer_key);

-- Records that cannot be delivered as they are, with the reason. Retried by itself when the
-- customer changes again, or by `dead-letters retry`.
CREATE TABLE dead_letters (
  customer_key     text PRIMARY KEY,
  payload          jsonb,
  reason           text NOT NULL,
  field_path       text,
  http_status      integer,
  attempts         integer NOT NULL DEFAULT 1,
  first_failed_at  timestamptz NOT NULL DEFAULT now(),
  last_failed_at   timestamptz NOT NULL DEFAULT now()
);

-- Backfill runs: a persisted keyset cursor makes an interrupted backfill resume.
CREATE TABLE backfill (
  run_id       bigserial PRIMARY KEY,
  where_sql    text,
  cursor       text,
  enqueued     bigint NOT NULL DEFAULT 0,
  total        bigint,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);

-- What the running daemon reports for `status` and readiness (last error, key rejected,
-- requests in the last minute, heartbeat seen...): one JSON document per name.
CREATE TABLE runtime (
  name        text PRIMARY KEY,
  value       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Timestamps and statuses of API requests, for "requests in the last minute" in `status`.
-- The daemon trims rows older than an hour.
CREATE TABLE requests (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT now(),
  status  integer NOT NULL,
  records integer NOT NULL
);
CREATE INDEX requests_at ON requests (at);
