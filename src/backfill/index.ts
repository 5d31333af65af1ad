/** The backfill stage: enqueue every (or every matching) customer key at backfill priority. */
export { startBackfill, resumeOrStartBackfill, runBackfill, withBackfillLock, BackfillBusyError, DEFAULT_CHUNK_SIZE } from './run.js';
export type { BackfillProgress, RunOptions, RunResult } from './run.js';
export { ensureInitialBackfill, readInitialBackfillDoc, INITIAL_BACKFILL_DOC, type InitialBackfillDoc } from './initial.js';
export { latestRun, unfinishedRun, getRun, type BackfillRun } from './runs.js';
export { pendingBackfillKeys } from '../queue/depth.js';
export { waitForDrain, summarize, snapshot, type DrainSummary, type DrainSnapshot } from './wait.js';
export { deliveryEtaMs, remainingKeys } from './eta.js';
export { createReporter, type Reporter } from './progress.js';
