-- carecycle-sync state schema, version 2.
-- The identifying customer fields of the last send (externalId, CareCycle's other match keys,
-- and the required firstName/lastName/phoneNumber/postalCode), so that with
-- sync.onCustomerDelete = cancel-policies a deleted customer's remembered policies can still be
-- sent as Cancelled in a valid record after the CRM row is gone.
ALTER TABLE sent ADD COLUMN identity jsonb;
