/**
 * The one stored `sent.payload_hash` of a customer whose last send has an unknown outcome
 * (docs/state-tables.md, `sent`): written before a request goes out and when a batch is left to
 * the new lease holder. It equals no payload's hash, so the next pass sends the customer
 * whatever it holds.
 */
export const UNKNOWN_OUTCOME_HASH = 'unknown-outcome';
