/**
 * The events `alerts.webhooks[].events` may name, in the order they are documented. Each is one
 * condition of src/observe/alerts/conditions.ts; the config validates against this list (config/
 * sits below observe/, docs/architecture.md, "Layers"), and the compiler holds the two together:
 * CONDITIONS must have exactly these keys.
 */
export const ALERT_EVENTS = [
  'not_ready',
  'api_key_rejected',
  'dead_letters_growing',
  'wal_retained',
  'slot_recreated',
  'hold_started',
] as const;

export type AlertEvent = (typeof ALERT_EVENTS)[number];
