/**
 * What an insert into `pending` does to a key already queued (docs/state-tables.md, `pending`).
 * Every statement that queues keys ends with one of these.
 */

/**
 * A change: the version is bumped (an in-flight delivery of the key then leaves the row for the
 * next pass), the priority becomes the lesser (a live change overtakes a backfill entry).
 * `extra`: more assignments (`, a = b`).
 */
export const onConflictChange = (extra = ''): string => `ON CONFLICT (customer_key) DO UPDATE
     SET version = pending.version + 1,
         priority = LEAST(pending.priority, EXCLUDED.priority),
         last_enqueued_at = now()${extra}`;

/**
 * Not a change (a backfill, a reconcile): the version is left alone (bumping it would make an
 * in-flight delivery of the key send twice); only a more urgent priority is taken.
 */
export const ON_CONFLICT_BACKFILL = `ON CONFLICT (customer_key) DO UPDATE SET priority = EXCLUDED.priority, last_enqueued_at = now()
                      WHERE pending.priority > EXCLUDED.priority`;
