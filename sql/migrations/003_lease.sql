-- carecycle-sync state schema, version 3.
-- The delivery lease: a fencing token for the one instance that holds the slot lock.
-- Whoever takes the slot's advisory lock bumps `generation`; every claim and every settle of a
-- delivery batch carries the generation it was claimed under and writes nothing when it is no
-- longer the current one. An instance that lost its lock (its lock connection died while a
-- request was in flight) can therefore never overwrite what the new holder recorded.
CREATE TABLE lease (
  slot         text PRIMARY KEY,
  generation   bigint NOT NULL DEFAULT 1,
  holder       text NOT NULL,
  acquired_at  timestamptz NOT NULL DEFAULT now()
);

-- Policy keys whose change carried no customer key (a hard delete under the default replica
-- identity) and that sent_policies could not resolve when they were captured: the customer's
-- first send carrying the policy may still be in flight. The settle that records such a policy
-- keeps its customer pending, so the delete is sent; a later capture flush resolves any left
-- over once sent_policies knows them; rows older than every batch in flight are moot.
CREATE TABLE unresolved_policy_changes (
  policy_key   text PRIMARY KEY,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
