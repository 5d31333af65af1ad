/** `status`: what the daemon is doing, from the source catalog and the state tables. */
export {
  collectStatus,
  readSlot,
  newestError,
  type StatusReport,
  type SlotStatus,
  type QueueLane,
  type BackfillStatus,
} from './collect.js';
export { renderStatus } from './format.js';
export { missingStateTables, requireStateSetUp, StateNotSetUpError, NOT_SET_UP } from './setup-check.js';
export { formatBytes, formatDuration, formatAgo, formatCount } from './units.js';
