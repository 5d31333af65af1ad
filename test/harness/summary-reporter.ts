import { writeSync } from 'node:fs';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import type { SerializedError } from 'vitest';
import { runNotes } from './run-notes.js';

/**
 * Prints the one line CI reads, as the very last line of the run:
 * `tests: N passed, N failed` (`, N skipped` when some were skipped).
 *
 * Vitest's own summary (`Tests  3 passed (3)`) is not that line, and a run that dies before any
 * test (a failed global setup: no Postgres) must never read as "0 passed, 0 failed". So the
 * line is written from process 'exit' (after everything vitest prints), and a run that exits
 * non-zero without a counted failure reports one failure for the run itself.
 * Listed last in vitest.config.ts. See docs/testing.md, "The closing line".
 */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** The summary line; `runFailed` (non-zero exit, errors outside tests) forces at least one failure. */
export function summaryLine(c: Counts, runFailed: boolean): string {
  const failed = runFailed && c.failed === 0 ? 1 : c.failed;
  const skipped = c.skipped > 0 ? `, ${c.skipped} skipped` : '';
  return `tests: ${c.passed} passed, ${failed} failed${skipped}`;
}

export function countModules(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): Counts {
  const c: Counts = { passed: 0, failed: 0, skipped: 0 };
  for (const m of modules) {
    let failedHere = 0;
    for (const t of m.children.allTests()) {
      const s = t.result().state;
      if (s === 'passed') c.passed++;
      else if (s === 'failed') failedHere++;
      else c.skipped++;
    }
    // A file that fails to load, or whose hooks fail, has errors but maybe no failed test.
    if (failedHere === 0 && (m.state() === 'failed' || m.errors().length > 0)) failedHere = 1;
    c.failed += failedHere;
  }
  c.failed += unhandled.length;
  return c;
}

export default class SummaryReporter implements Reporter {
  private counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  private printed = false;

  onInit(_vitest: Vitest): void {
    process.once('exit', (code) => this.print(code));
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    this.counts = countModules(modules, unhandled);
  }

  private print(code: number): void {
    if (this.printed) return;
    this.printed = true;
    const runFailed = code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0);
    for (const n of runNotes()) writeSync(1, `warning: ${n}\n`);
    writeSync(1, `${summaryLine(this.counts, runFailed)}\n`);
  }
}
