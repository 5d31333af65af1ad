-- carecycle-sync state schema, version 4.
-- The mass-cancellation rail: records that would cancel or terminate more policies within 15
-- minutes than sync.safety.maxCancellations allows are held in `pending` (nothing is lost)
-- until `carecycle-sync approve` releases them, or until they no longer cancel anything (the
-- CRM was fixed) when they are assembled again.
ALTER TABLE pending
  ADD COLUMN held_at        timestamptz,
  ADD COLUMN held_policies  integer,
  ADD COLUMN approved       boolean NOT NULL DEFAULT false;

-- Cancellations sent (not approved ones), for the rolling 15-minute window. Trimmed as it goes.
CREATE TABLE cancellations_sent (
  at        timestamptz NOT NULL DEFAULT now(),
  policies  integer NOT NULL
);
CREATE INDEX cancellations_sent_at ON cancellations_sent (at);
CREATE INDEX pending_held ON pending (customer_key) WHERE held_at IS NOT NULL;
