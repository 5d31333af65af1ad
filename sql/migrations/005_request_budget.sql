-- carecycle-sync state schema, version 5.
-- API requests are recorded when they leave, before CareCycle answers, so that a restarted
-- daemon (a crash loop, a quick restart) and doctor's probe count what the last minute already
-- spent, even when a process died waiting for the answer. When the answer comes, `status` is
-- filled in and `at` moves to the answer's time (CareCycle counted the request no later than
-- that, so a window counted from it never ends early); without an answer `status` stays NULL.
ALTER TABLE requests ALTER COLUMN status DROP NOT NULL;
-- Which command sent it: 'run' (the daemon, and backfill --wait) or 'doctor'.
ALTER TABLE requests ADD COLUMN origin text NOT NULL DEFAULT 'run';
