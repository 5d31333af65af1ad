-- carecycle-sync state schema, version 7.
-- The restore state of a customer gets its own column. Before, it hid in sent.payload_hash as a
-- `restore:` prefix: after a send in which CareCycle terminated policies by itself, the stored
-- hash was `restore:<hash>`, so the customer was sent once more (see docs/state-tables.md, `sent`).
-- Now the hash stays the payload's and `restore` says the customer goes once more.
ALTER TABLE sent ADD COLUMN restore boolean NOT NULL DEFAULT false;
UPDATE sent SET restore = true, payload_hash = substr(payload_hash, length('restore:') + 1)
 WHERE starts_with(payload_hash, 'restore:');

-- "Outcome unknown" had two spellings: `unknown:` (marked before a request went out, followed
-- by `restore:` when that send restored policies) and `unknown-outcome` (a batch left to the new
-- lease holder). One value remains, `unknown-outcome`; like the old ones it equals no payload's hash.
UPDATE sent SET restore = true, payload_hash = 'unknown-outcome' WHERE payload_hash = 'unknown:restore:';
UPDATE sent SET payload_hash = 'unknown-outcome' WHERE payload_hash = 'unknown:';
