-- carecycle-sync state schema, version 4.
-- API requests are recorded when they leave, before CareCycle answers, so that a restarted
-- daemon (a crash loop, a quick restart) and doctor's probe count what the last minute already
-- spent, even when a process died waiting for the answer. `status` is filled in with the answer
-- and stays NULL when none was recorded.
ALTER TABLE requests ALTER COLUMN status DROP NOT NULL;
-- Which command sent it: 'run' (the daemon, and backfill --wait) or 'doctor'.
ALTER TABLE requests ADD COLUMN origin text NOT NULL DEFAULT 'run';
