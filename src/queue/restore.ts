/**
 * The restore rule (docs/carecycle-api.md, A17; docs/state-tables.md, `sent.restore`). After a
 * send in which CareCycle terminated policies by itself, the settle stores the payload's hash
 * with `restore` set: the stored row then matches no payload, so the customer is sent once more,
 * which sets those policies back to their CRM status (that send creates nothing, so it
 * terminates nothing). A send made while `restore` is set is "restoring".
 *
 * Once only: if the restoring send itself saw terminations, CareCycle keeps doing it, and the
 * customer is not sent again for it. Unless that send created a policy itself (one added to the
 * CRM meanwhile): its creation is what terminated them, and the next send creates nothing.
 *
 * Kept by the "outcome unknown" mark (./unknown-outcome.ts) of a restoring send; cleared when a
 * batch is left to the new lease holder (that holder sends the customer as new).
 */

/** What the restore rule reads of a stored `sent` row. */
export interface StoredSend {
  hash: string | null;
  restore?: boolean;
}

/** The send that `stored` remembers restores auto-terminated policies. */
export const isRestoring = (stored: StoredSend | undefined): boolean => stored?.restore === true;

/**
 * `hash` is what CareCycle was last confirmed to hold: the customer can be skipped as
 * unchanged. Never while it is to be restored (nor after an unknown outcome, whose stored
 * value equals no payload's hash).
 */
export const matchesLastSend = (stored: StoredSend | undefined, hash: string | null): boolean =>
  stored !== undefined && !isRestoring(stored) && stored.hash === hash;

/** A delivered send, as the settle sees it. */
export interface DeliveredSend {
  /** Policies CareCycle terminated by itself while this send was applied. */
  autoTerminated: readonly string[];
  /** The send was made while `restore` was set. */
  restoring: boolean;
  /** Policies the send created. */
  createdPolicies: number;
}

/** The settle of `send` sets `restore`: the customer stays pending and goes once more. */
export const restoreAfter = (send: DeliveredSend): boolean =>
  send.autoTerminated.length > 0 && (!send.restoring || send.createdPolicies > 0);
