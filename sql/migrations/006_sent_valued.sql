-- carecycle-sync state schema, version 6.
-- Which fields the last send carried with a value: customer fields by name, custom fields as
-- `customFields.<key>` (sent.valued), each policy's fields (sent_policies.valued). A field that
-- is NULL or blank in the CRM now is sent as an explicit null (sync.nullValues: clear) only when
-- it is in this list, so nothing CareCycle got elsewhere is erased. NULL in an existing row
-- means "not known" (written by a version that did not record it): see the README, Upgrading.
ALTER TABLE sent ADD COLUMN valued jsonb;
ALTER TABLE sent_policies ADD COLUMN valued jsonb;

-- Every customer already sent is looked at once more, at backfill priority: one whose record
-- is unchanged costs no request and gets its list recorded; one that changed is sent anyway.
INSERT INTO pending (customer_key, priority) SELECT customer_key, 1 FROM sent ON CONFLICT (customer_key) DO NOTHING;
